package io.capstan.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;

class QuickstartTest {
    @Test
    void theExampleJobShipsInTheJarWithATimeout() {
        var example = new String(QuickstartCommand.example());

        assertThat(example).contains("kind: Job", "name: hello", "timeoutSeconds: 30");
    }

    @Test
    void aTakenPortIsNotFree() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThat(QuickstartCommand.isFree("127.0.0.1", socket.getLocalPort())).isFalse();
        }
        assertThat(QuickstartCommand.isFree("127.0.0.1", 0)).isTrue();
    }
}
