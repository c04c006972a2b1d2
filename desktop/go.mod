module satchel.dev/desktop

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	github.com/BurntSushi/toml v1.5.0
	github.com/cavaliergopher/grab/v3 v3.0.1
	github.com/google/go-cmp v0.7.0
	github.com/zalando/go-keyring v0.2.8
	golang.org/x/time v0.12.0
	satchel.dev/shared v0.0.0-00010101000000-000000000000
)

require (
	github.com/btcsuite/btcd/btcec/v2 v2.5.0 // indirect
	github.com/btcsuite/btcd/chainhash/v2 v2.0.0 // indirect
	github.com/danieljoos/wincred v1.2.3 // indirect
	github.com/decred/dcrd/crypto/blake256 v1.1.0 // indirect
	github.com/decred/dcrd/dcrec/secp256k1/v4 v4.4.0 // indirect
	github.com/godbus/dbus/v5 v5.2.2 // indirect
	golang.org/x/sys v0.27.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace satchel.dev/shared => ../shared
