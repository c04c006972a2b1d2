// Package difftest checks satchel.dev/backend/lightning/bolt11 against lnd's zpay32, the BOLT 11
// implementation of the node Satchel runs, by differential fuzzing. It is a module of its own so
// that lnd's dependencies never enter the backend's module graph; it is not in go.work, so run
// it with GOWORK=off (make test does).
package difftest
