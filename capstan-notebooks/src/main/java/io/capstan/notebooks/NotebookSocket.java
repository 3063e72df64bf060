package io.capstan.notebooks;

import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.WritableHeaders;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * One WebSocket through {@code /notebook/<namespace>/<name>/...}, such as a kernel's channels: the caller's upgrade is
 * accepted only once its token names a caller who may edit the namespace and the server's own socket is open; then
 * frames pass both ways as they are. The HTTP filters ({@link NotebookAccessFilter}) have already refused callers
 * without access with 401 or 403; the token is checked again here, since the listener cannot see the filters' caller.
 * An upgrade refused here (the notebook is stopped, its server refused) is answered 400 by Helidon.
 */
final class NotebookSocket implements WsListener {
    private static final System.Logger LOG = System.getLogger(NotebookSocket.class.getName());
    private static final io.helidon.http.HeaderName SUBPROTOCOL = HeaderNames.create("Sec-WebSocket-Protocol");
    private static final Pattern PATH = Pattern.compile("/notebook/([^/]+)/([^/]+)/.*");
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

    private final Notebooks notebooks;
    private final Function<String, Optional<Caller>> authenticate;
    private final Function<String, Optional<String>> sessionToken;
    private final AccessPolicy policy;
    private final HttpClient http;
    /** Set once in {@link #onHttpUpgrade}, before Helidon calls anything else on this listener. */
    private volatile WebSocket upstream;
    private volatile WsSession session;

    NotebookSocket(Notebooks notebooks, Function<String, Optional<Caller>> authenticate, Function<String, Optional<String>> sessionToken,
                   AccessPolicy policy, HttpClient http) {
        this.notebooks = notebooks;
        this.authenticate = authenticate;
        this.sessionToken = sessionToken;
        this.policy = policy;
        this.http = http;
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        var path = prologue.uriPath().rawPath();
        var m = PATH.matcher(path);
        if (!m.matches()) throw new WsUpgradeException("not a notebook's path");
        var auth = headers.first(HeaderNames.AUTHORIZATION).orElse("");
        // A browser cannot set Authorization on a WebSocket: its session cookie counts, as on the HTTP side (the
        // browser guard has refused another site's Origin, and the SameSite=Strict cookie is not sent from one).
        var token = auth.regionMatches(true, 0, "bearer ", 0, 7) ? Optional.of(auth.substring(7).strip())
                : headers.first(HeaderNames.COOKIE).flatMap(sessionToken);
        if (token.isEmpty()) throw new WsUpgradeException("no token");
        Optional<Caller> caller;
        try {
            caller = authenticate.apply(token.get());
        } catch (RuntimeException e) {
            throw new WsUpgradeException("cannot check the token: " + e.getMessage());
        }
        if (caller.isEmpty() || !policy.allows(caller.get(), m.group(1), Role.EDIT)) throw new WsUpgradeException("refused");
        Upstream target;
        try {
            target = notebooks.upstream(m.group(1), m.group(2));
        } catch (RuntimeException e) {
            throw new WsUpgradeException(e.getMessage());
        }
        var query = prologue.query().rawValue();
        var uri = URI.create("ws://" + target.authority() + target.pathFor(path) + (query.isEmpty() ? "" : "?" + query));
        var builder = http.newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT);
        if (!target.token().isEmpty()) builder.header("Authorization", "token " + target.token());
        var protocols = headers.first(SUBPROTOCOL).map(v -> Arrays.stream(v.split(",")).map(String::strip)
                .filter(s -> !s.isEmpty()).toList()).orElse(java.util.List.of());
        if (!protocols.isEmpty()) builder.subprotocols(protocols.getFirst(), protocols.subList(1, protocols.size()).toArray(String[]::new));
        try {
            upstream = builder.buildAsync(uri, new FromServer()).get(CONNECT_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WsUpgradeException("interrupted");
        } catch (Exception e) {
            throw new WsUpgradeException("the notebook server refused the WebSocket: " + e.getMessage());
        }
        var chosen = upstream.getSubprotocol();
        if (chosen == null || chosen.isEmpty()) return Optional.empty();
        var reply = WritableHeaders.create();
        reply.set(SUBPROTOCOL, chosen);
        return Optional.of(reply);
    }

    @Override
    public void onOpen(WsSession session) {
        this.session = session;
        upstream.request(1);
    }

    @Override
    public void onMessage(WsSession session, String text, boolean last) {
        await(upstream.sendText(text, last));
    }

    @Override
    public void onMessage(WsSession session, BufferData buffer, boolean last) {
        var bytes = new byte[buffer.available()];
        buffer.read(bytes);
        await(upstream.sendBinary(ByteBuffer.wrap(bytes), last));
    }

    @Override
    public void onClose(WsSession session, int status, String reason) {
        var ws = upstream;
        if (ws != null && !ws.isOutputClosed()) ws.sendClose(status == 1005 || status == 1006 ? WebSocket.NORMAL_CLOSURE : status, reason);
    }

    @Override
    public void onError(WsSession session, Throwable t) {
        var ws = upstream;
        if (ws != null) ws.abort();
    }

    private static void await(CompletableFuture<WebSocket> sent) {
        try {
            sent.get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while forwarding to a notebook server", e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot forward to the notebook server: " + e.getMessage(), e);
        }
    }

    /** The server's side: each frame goes to the caller, and the next is asked for once it went. */
    private final class FromServer implements WebSocket.Listener {
        @Override
        public void onOpen(WebSocket webSocket) {
            // The first frame is asked for once the caller's side is open (onOpen above).
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            session.send(data.toString(), last);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            var bytes = new byte[data.remaining()];
            data.get(bytes);
            session.send(BufferData.create(bytes), last);
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            var s = session;
            // 1005 and 1006 say no code was sent; they may not be sent on.
            if (s != null) s.close(statusCode == 1005 || statusCode == 1006 ? WebSocket.NORMAL_CLOSURE : statusCode, reason);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            LOG.log(System.Logger.Level.DEBUG, "a notebook server's WebSocket failed", error);
            var s = session;
            if (s != null) s.close(1011, "the notebook server's socket failed");
        }
    }
}
