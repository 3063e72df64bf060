/**
 * The protocol-neutral inference API of Capstan's model serving.
 *
 * <p>{@link io.capstan.serving.api.InferenceEndpoint} is what every wire protocol adapter calls:
 * OIP v2 REST and KServe V1 in {@code io.capstan.serving.http}, OIP gRPC in
 * {@code capstan-serving-grpc}. The records here mirror the Open Inference Protocol's data model:
 * {@link io.capstan.serving.api.InferenceRequest}, {@link io.capstan.serving.api.InferenceResponse},
 * {@link io.capstan.serving.api.Tensor} (flat data in a primitive array chosen by
 * {@link io.capstan.serving.api.DataType#carrier()}), {@link io.capstan.serving.api.ModelMetadata}
 * and {@link io.capstan.serving.api.ServerMetadata}.
 *
 * <p><b>Addressing.</b> A model is (namespace, name, version). The name is the InferenceService
 * name; the namespace defaults to {@code "default"}; the version is null for "whatever the traffic
 * split picks" or a revision number to address one revision.
 *
 * <p><b>Errors.</b> Failures are {@link io.capstan.serving.api.InferenceException}s whose
 * {@link io.capstan.serving.api.InferenceError} gives the HTTP status and gRPC code:
 * invalid input 400/INVALID_ARGUMENT, unknown model 404/NOT_FOUND, overloaded
 * 429/RESOURCE_EXHAUSTED, not ready 503/UNAVAILABLE, model failure 500/INTERNAL. Messages are
 * written for the client and name the offending field, e.g. {@code inputs[0].shape}.
 *
 * <p>This package depends on nothing but the JDK.
 */
package io.capstan.serving.api;
