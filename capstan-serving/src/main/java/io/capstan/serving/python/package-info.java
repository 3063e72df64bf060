/**
 * Models served by a model-server process that Capstan starts, supervises and proxies: scikit-learn through
 * Capstan's Python {@code sklearnserver}, and custom predictor and transformer containers (KServe {@code kserve.Model}
 * programs) run as host processes. {@link io.capstan.serving.python.ProcessLauncher} is the seam where a container
 * runner plugs in.
 */
package io.capstan.serving.python;
