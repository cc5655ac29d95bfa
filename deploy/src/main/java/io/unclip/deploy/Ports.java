package io.unclip.deploy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Ports on localhost: choosing one for a process, and whether something listens on one. */
final class Ports {
    private Ports() {
    }

    /** {@code wanted} if it is free (or a free port when {@code wanted} is 0 or taken). */
    static int free(int wanted) throws IOException {
        if (wanted > 0 && !listening(wanted)) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress("localhost", wanted));
                return wanted;
            } catch (IOException e) {
                // taken: fall through
            }
        }
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("localhost", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
