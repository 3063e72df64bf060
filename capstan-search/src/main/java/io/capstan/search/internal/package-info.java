/**
 * Implementations behind {@link io.capstan.search.SearchAlgorithms}. Not API: anything here may change at any time.
 */
package io.capstan.search.internal;
