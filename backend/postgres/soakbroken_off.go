//go:build !soakbroken

package postgres

// brokenSettlement is false in every real build (see soakbroken.go).
const brokenSettlement = false
