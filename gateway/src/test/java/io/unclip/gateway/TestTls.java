package io.unclip.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed key and certificate for localhost (keytool's, made once per test run), for a gateway that serves
 * HTTPS next to plaintext ({@code quarkus.tls.key-store.p12.*}), and the client SSLContext that trusts it.
 */
final class TestTls {
    static final String PASSWORD = "unclip-test";
    private static Path keyStore;

    private TestTls() {
    }

    /** The PKCS#12 key store: key pair and self-signed certificate, subject alternative names localhost and 127.0.0.1. */
    static synchronized Path keyStore() {
        if (keyStore != null) {
            return keyStore;
        }
        try {
            Path dir = Files.createTempDirectory("unclip-tls");
            Path p12 = dir.resolve("gateway.p12");
            Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            Process p = new ProcessBuilder(List.of(Files.isExecutable(keytool) ? keytool.toString() : "keytool",
                    "-genkeypair", "-alias", "gateway", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                    "-storetype", "PKCS12", "-keystore", p12.toString(), "-storepass", PASSWORD,
                    "-keypass", PASSWORD)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + out);
            }
            p12.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            keyStore = p12;
            return p12;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A client context whose one trust anchor is the gateway's certificate. */
    static SSLContext clientContext() throws IOException, GeneralSecurityException {
        KeyStore server = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore())) {
            server.load(in, PASSWORD.toCharArray());
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("gateway", server.getCertificate("gateway"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
