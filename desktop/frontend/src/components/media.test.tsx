import { fireEvent, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { Cover, ScreenshotStrip } from './media'

const shot = (n: number) => ({ id: `m${n}`, url: `http://127.0.0.1:8080/media/g1/${'ab'.repeat(32)}${n}.png`, width: 1280, height: 720 })

test('a cover shows its image, and the coloured tile without one or when it cannot load', () => {
  const { container, rerender } = render(<Cover slug="lantern-drift" title="Lantern Drift" image={shot(0)} />)
  const img = container.querySelector('img.cover')!
  expect(img).toHaveAttribute('src', shot(0).url)
  fireEvent.error(img)
  expect(container.querySelector('img')).toBeNull()
  expect(container.querySelector('.cover-initial')).toHaveTextContent('L')
  rerender(<Cover slug="lantern-drift" title="Lantern Drift" />)
  expect(container.querySelector('.cover-initial')).toHaveTextContent('L')
})

test('the screenshot strip opens a viewer that steps through the screenshots', async () => {
  render(<ScreenshotStrip title="Lantern Drift" shots={[shot(1), shot(2), shot(3)]} />)
  const strip = screen.getByRole('region', { name: 'Screenshots' })
  expect(within(strip).getAllByRole('button')).toHaveLength(3)
  await userEvent.click(screen.getByRole('button', { name: 'Screenshot 2 of 3' }))
  const viewer = screen.getByRole('dialog', { name: 'Lantern Drift: screenshot 2 of 3' })
  expect(within(viewer).getByRole('img', { name: 'Lantern Drift, screenshot 2' })).toHaveAttribute('src', shot(2).url)
  await userEvent.click(within(viewer).getByRole('button', { name: 'Next →' }))
  expect(screen.getByRole('dialog', { name: 'Lantern Drift: screenshot 3 of 3' })).toBeInTheDocument()
  await userEvent.keyboard('{ArrowRight}')
  expect(screen.getByRole('dialog', { name: 'Lantern Drift: screenshot 1 of 3' })).toBeInTheDocument()
  await userEvent.keyboard('{ArrowLeft}')
  expect(screen.getByRole('dialog', { name: 'Lantern Drift: screenshot 3 of 3' })).toBeInTheDocument()
  await userEvent.keyboard('{Escape}')
  expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
})

test('no screenshots, no strip', () => {
  const { container } = render(<ScreenshotStrip title="Lantern Drift" shots={[]} />)
  expect(container).toBeEmptyDOMElement()
})
