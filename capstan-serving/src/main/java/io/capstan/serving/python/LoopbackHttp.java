package io.capstan.serving.python;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * A minimal blocking HTTP/1.1 client for one model-server process on 127.0.0.1 (or one predictor's Service elsewhere): pooled keep-alive connections, one
 * write per request, {@code Content-Length} bodies. Called from virtual threads, which park on the socket; the JDK's
 * HttpClient hands every exchange to its selector thread and back, which made the hop to the process cost more than
 * the process itself (measured: a fifth of the process's own throughput through it).
 */
final class LoopbackHttp implements AutoCloseable {
    /** An answer: the status and the body. */
    record Answer(int status, byte[] body) {
    }

    private static final int MAX_HEADER_BYTES = 64 * 1024;
    private static final int MAX_IDLE = 256;

    private final int port;
    private final String host;
    private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    LoopbackHttp(int port) {
        this(null, port);
    }

    /** @param host the server's host; null for the loopback address */
    LoopbackHttp(String host, int port) {
        this.host = host;
        this.port = port;
    }

    private static final class Connection {
        final Socket socket;
        final InputStream in;
        final OutputStream out;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            this.out = socket.getOutputStream();
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a broken connection
            }
        }
    }

    Answer post(String path, byte[] body, Duration timeout) throws IOException {
        var head = ("POST " + path + " HTTP/1.1\r\nHost: " + (host == null ? "127.0.0.1" : host) + ":" + port + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        var request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        // a pooled connection the server closed meanwhile fails on first use: then once more on a new one
        var pooled = idle.pollFirst();
        if (pooled != null) {
            try {
                return exchange(pooled, request, timeout);
            } catch (SocketTimeoutException e) {
                pooled.close();
                throw e;
            } catch (IOException e) {
                pooled.close();
            }
        }
        var fresh = open(timeout);
        try {
            return exchange(fresh, request, timeout);
        } catch (IOException e) {
            fresh.close();
            throw e;
        }
    }

    private Connection open(Duration timeout) throws IOException {
        var socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(host == null ? new InetSocketAddress(InetAddress.getLoopbackAddress(), port) : new InetSocketAddress(host, port), (int) Math.min(5000, timeout.toMillis()));
        return new Connection(socket);
    }

    private Answer exchange(Connection connection, byte[] request, Duration timeout) throws IOException {
        connection.socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
        connection.out.write(request);
        connection.out.flush();
        var statusLine = line(connection.in);
        if (!statusLine.startsWith("HTTP/1.")) throw new IOException("not an HTTP answer: " + statusLine);
        int status = Integer.parseInt(statusLine.substring(9, 12));
        long length = -1;
        boolean keepAlive = statusLine.startsWith("HTTP/1.1");
        int headerBytes = 0;
        while (true) {
            var header = line(connection.in);
            headerBytes += header.length();
            if (headerBytes > MAX_HEADER_BYTES) throw new IOException("the answer's headers are too long");
            if (header.isEmpty()) break;
            int colon = header.indexOf(':');
            if (colon < 0) continue;
            var name = header.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            var value = header.substring(colon + 1).strip();
            if (name.equals("content-length")) length = Long.parseLong(value);
            else if (name.equals("connection")) keepAlive = !value.equalsIgnoreCase("close");
            else if (name.equals("transfer-encoding") && !value.equalsIgnoreCase("identity")) {
                throw new IOException("chunked answers are not supported from a model server process");
            }
        }
        byte[] body;
        if (length >= 0) {
            if (length > Integer.MAX_VALUE - 16) throw new IOException("the answer is too large: " + length + " bytes");
            body = connection.in.readNBytes((int) length);
            if (body.length != length) throw new EOFException("the answer ended after " + body.length + " of " + length + " bytes");
        } else {
            body = connection.in.readAllBytes();
            keepAlive = false;
        }
        if (keepAlive && !closed && idle.size() < MAX_IDLE) idle.offerFirst(connection);
        else connection.close();
        return new Answer(status, body);
    }

    private static String line(InputStream in) throws IOException {
        var text = new StringBuilder(64);
        while (true) {
            int c = in.read();
            if (c < 0) throw new EOFException("the connection closed before the answer");
            if (c == '\n') break;
            if (c != '\r') text.append((char) c);
            if (text.length() > MAX_HEADER_BYTES) throw new IOException("an answer line is too long");
        }
        return text.toString();
    }

    @Override
    public void close() {
        closed = true;
        Connection c;
        while ((c = idle.pollFirst()) != null) c.close();
    }
}
