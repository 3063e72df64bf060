/**
 * Capstan's artifact storage. {@link io.capstan.artifacts.ArtifactStore} is the contract;
 * {@link io.capstan.artifacts.LocalArtifactStore} (content-addressed folder, the embedded default) and
 * {@link io.capstan.artifacts.S3ArtifactStore} (any S3-compatible bucket) implement it. Every key passes
 * {@link io.capstan.artifacts.ArtifactKeys}, every user-facing location parses as an
 * {@link io.capstan.artifacts.ArtifactUri}, and a read whose bytes no longer match their recorded SHA-256 fails with
 * {@link io.capstan.artifacts.CorruptArtifactException} before any byte is served.
 */
package io.capstan.artifacts;
