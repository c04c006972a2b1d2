package rpc_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
)

// TestReflectionAndHealth speaks gRPC over h2c, as grpcurl and load balancers do: server
// reflection lists every API service and the health service and describes them, and the health
// service says SERVING, NotFound for a service the server does not have, and NOT_SERVING once
// the database is gone.
func TestReflectionAndHealth(t *testing.T) {
	b := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: protocols}}

	want := []string{grpchealth.HealthV1ServiceName}
	for _, proc := range procedures() {
		if service, _, _ := strings.Cut(proc, "/"); !slices.Contains(want, service) {
			want = append(want, service)
		}
	}
	reflection := grpcreflect.NewClient(h2c, b.srv.URL, connect.WithGRPC()).NewStream(ctx)
	defer reflection.Close()
	names, err := reflection.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, string(n))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("reflection lists %v, want %v", got, want)
	}
	files, err := reflection.FileContainingSymbol("satchel.catalog.v1.CatalogService")
	if err != nil || len(files) == 0 || files[0].GetPackage() != "satchel.catalog.v1" {
		t.Errorf("describing the catalog service: %v %v", files, err)
	}

	health := grpchealth.NewClient(h2c, b.srv.URL, connect.WithGRPC())
	for _, service := range []string{"", "satchel.catalog.v1.CatalogService"} {
		res, err := health.Check(ctx, &grpchealth.CheckRequest{Service: service})
		if err != nil || res.Status != grpchealth.StatusServing {
			t.Errorf("health of %q: %v %v, want serving", service, res, err)
		}
	}
	if _, err := health.Check(ctx, &grpchealth.CheckRequest{Service: "satchel.nope.v1.NopeService"}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("health of a service the server does not have: %v, want not_found", err)
	}
	b.db.Close() // the database is gone
	if res, err := health.Check(ctx, &grpchealth.CheckRequest{}); err != nil || res.Status != grpchealth.StatusNotServing {
		t.Errorf("health without the database: %v %v, want not_serving", res, err)
	}
}
