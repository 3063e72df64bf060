/**
 * Persistence and control loop for Capstan resources.
 *
 * <p>{@link io.capstan.store.Database} is the connection pool and per-module Flyway runner.
 * {@link io.capstan.store.ResourceStore} (implemented by {@link io.capstan.store.JdbiResourceStore}) stores resources
 * with Kubernetes semantics and publishes every change, in commit order, on a feed read by
 * {@link io.capstan.store.ResourceStore#changes}. {@link io.capstan.store.ControllerRuntime} tails that feed while
 * its {@link io.capstan.store.LeaderLease} is held and drives each kind's {@link io.capstan.store.Reconciler}.
 */
package io.capstan.store;
