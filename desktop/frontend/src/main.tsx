import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import App from './App'
import { preload } from './preload'
import './styles.css'

preload()

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
