// Package nostr holds the Nostr identity primitives Satchel needs: BIP-340
// keys (SecretKey, PublicKey) with their NIP-19 npub/nsec forms, and NIP-01
// events (Event) with canonical serialization, id computation, signing and
// verification.
//
// Keys and ids are stored and sent as lowercase hex; npub and nsec are for
// display and input only (NIP-19). Signing goes through the Signer
// interface so that a key held elsewhere (an OS keyring, a remote signer)
// can stand in for a SecretKey.
//
// BIP-340 arithmetic comes from github.com/btcsuite/btcd/btcec/v2/schnorr;
// only 32-byte messages (event ids) are signed and verified.
package nostr
