// VatKernelAPI: the types (`Components.Schemas.*`, `Operations.*`) and the `Client` that
// swift-openapi-generator writes from openapi.yaml when this target builds. Nothing here is
// hand-written but this note; VatKernelClient holds the hand-written layer over it.
