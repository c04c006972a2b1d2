package rpc

import (
	"context"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
)

// health answers gRPC's health checks (grpc.health.v1.Health): SERVING while ready answers,
// NOT_SERVING while it fails (the database does not answer), for the whole server ("") and for
// each of its services; NotFound for a service it does not have.
type health struct {
	services map[string]bool
	ready    func(context.Context) error
}

// Check implements grpchealth.Checker.
func (h health) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if req.Service != "" && !h.services[req.Service] {
		return nil, connect.NewError(connect.CodeNotFound, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if h.ready(ctx) != nil {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}

// handleStandard mounts on mux what standard gRPC tools expect of a server: reflection (v1 and
// v1alpha, so grpcurl and buf curl work without the schema) listing services and the health
// service, and the health service reporting on ready. services are the API's paths as the
// generated constructors return them ("/pkg.Service/").
func handleStandard(mux *http.ServeMux, services []string, ready func(context.Context) error, opts ...connect.HandlerOption) {
	names := []string{grpchealth.HealthV1ServiceName}
	known := map[string]bool{}
	for _, path := range services {
		name := strings.Trim(path, "/")
		names = append(names, name)
		known[name] = true
	}
	reflector := grpcreflect.NewStaticReflector(names...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector, opts...))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, opts...))
	mux.Handle(grpchealth.NewHandler(health{services: known, ready: ready}, opts...))
}
