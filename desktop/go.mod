module satchel.dev/desktop

go 1.26.0

require github.com/zalando/go-keyring v0.2.8

require (
	github.com/BurntSushi/toml v1.5.0 // indirect
	github.com/cavaliergopher/grab/v3 v3.0.1 // indirect
	github.com/danieljoos/wincred v1.2.3 // indirect
	github.com/godbus/dbus/v5 v5.2.2 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	golang.org/x/sys v0.27.0 // indirect
	golang.org/x/time v0.12.0 // indirect
)

replace satchel.dev/shared => ../shared
