package io.unclip.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import io.unclip.service.auth.ApiKeys;

/**
 * The secrets of a secure local stack ({@code unclip stack up --secure}), made afresh in {@code <state>/secure/}
 * (owner-only): a throw-away CA and a certificate for localhost signed by it (the JDK's {@code keytool}: no
 * certificate code of our own), SCRAM-SHA-512 credentials on the broker's SASL_SSL listener, an API key for the
 * gateway and a service token the gateway presents to the stage services. Every gRPC port then serves TLS only,
 * and every Kafka client connects with SASL_SSL. The passwords reach the services in a properties file
 * ({@code quarkus.config.locations}), not on their command lines.
 */
public record StackSecurity(Path dir, String storePassword, String brokerPassword, String clientPassword) {
    static final String MECHANISM = "SCRAM-SHA-512";
    static final String BROKER_USER = "broker";
    static final String CLIENT_USER = "unclip";

    public Path caPem() {
        return dir.resolve("ca.pem");
    }

    Path serverKeystore() {
        return dir.resolve("server.p12");
    }

    public Path truststore() {
        return dir.resolve("truststore.p12");
    }

    /** The API key a user presents to the gateway (its hash is in {@link #apiKeys}). */
    public Path apiKey() {
        return dir.resolve("api-key");
    }

    /** The gateway's {@code unclip.auth.keys-file}. */
    public Path apiKeys() {
        return dir.resolve("api-keys");
    }

    /** The token the gateway presents to the stage services. */
    public Path serviceToken() {
        return dir.resolve("service-token");
    }

    /** The stage services' {@code unclip.auth.keys-file}: the service token's hash only. */
    public Path serviceTokens() {
        return dir.resolve("service-tokens");
    }

    /** Kafka client settings (no prefix): for {@code unclip submit --kafka-config} and the stack's own clients. */
    public Path kafkaClientConfig() {
        return dir.resolve("kafka-client.properties");
    }

    /** What every service reads through {@code quarkus.config.locations}. */
    public Path serviceConfig() {
        return dir.resolve("service.properties");
    }

    private Path passwords() {
        return dir.resolve("passwords.properties");
    }

    /** The secure stack's secrets in {@code state}, if it is one. */
    public static Optional<StackSecurity> load(Path state) throws IOException {
        Path dir = state.resolve("secure");
        Path pw = dir.resolve("passwords.properties");
        if (!Files.isRegularFile(pw)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(pw)) {
            p.load(in);
        }
        return Optional.of(new StackSecurity(dir, p.getProperty("store"), p.getProperty("broker"),
                p.getProperty("client")));
    }

    /** Removes a previous stack's secrets: a plaintext stack must not look secure. */
    static void clear(Path state) throws IOException {
        Path dir = state.resolve("secure");
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    /** Makes a fresh CA, server certificate, credentials and keys in {@code state/secure}. */
    static StackSecurity create(Path state) throws IOException, InterruptedException {
        clear(state);
        Path dir = Files.createDirectory(state.resolve("secure"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        StackSecurity s = new StackSecurity(dir, secret(), secret(), secret());
        Properties pw = new Properties();
        pw.setProperty("store", s.storePassword);
        pw.setProperty("broker", s.brokerPassword);
        pw.setProperty("client", s.clientPassword);
        s.writeProperties(s.passwords(), pw);
        s.makeCertificates();
        String apiKey = ApiKeys.newKey();
        String token = ApiKeys.newKey();
        s.writeOwnerOnly(s.apiKey(), apiKey + "\n");
        s.writeOwnerOnly(s.apiKeys(), "# unclip stack up --secure: the local user's key (" + s.apiKey() + ")\n"
                + ApiKeys.line(apiKey, "local-user", List.of()) + "\n");
        s.writeOwnerOnly(s.serviceToken(), token + "\n");
        s.writeOwnerOnly(s.serviceTokens(), "# the token the stack's gateway presents\n"
                + ApiKeys.line(token, "gateway", List.of()) + "\n");
        Properties client = new Properties();
        client.putAll(s.kafkaClient(s.clientPassword, CLIENT_USER));
        s.writeProperties(s.kafkaClientConfig(), client);
        Properties service = new Properties();
        s.kafkaClient(s.clientPassword, CLIENT_USER).forEach((k, v) -> service.setProperty("kafka." + k, v));
        service.setProperty("quarkus.tls.key-store.p12.path", s.serverKeystore().toString());
        service.setProperty("quarkus.tls.key-store.p12.password", s.storePassword);
        service.setProperty("quarkus.http.insecure-requests", "disabled");
        s.writeProperties(s.serviceConfig(), service);
        return s;
    }

    /** SASL_SSL with SCRAM as {@code user}, trusting the stack's CA. */
    Map<String, String> kafkaClient(String password, String user) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("security.protocol", "SASL_SSL");
        m.put("sasl.mechanism", MECHANISM);
        m.put("sasl.jaas.config", jaas(user, password));
        m.put("ssl.truststore.location", truststore().toString());
        m.put("ssl.truststore.type", "PKCS12");
        m.put("ssl.truststore.password", storePassword);
        return m;
    }

    /** The stack's own Kafka clients (topic creation, readiness). */
    Map<String, String> kafkaClient() {
        return kafkaClient(clientPassword, CLIENT_USER);
    }

    static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    /** The broker's listener settings: SASL_SSL for clients and between brokers, SCRAM only. */
    Map<String, String> brokerListener() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("sasl.enabled.mechanisms", MECHANISM);
        m.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        m.put("listener.name.sasl_ssl." + MECHANISM.toLowerCase() + ".sasl.jaas.config",
                jaas(BROKER_USER, brokerPassword));
        m.put("ssl.keystore.location", serverKeystore().toString());
        m.put("ssl.keystore.type", "PKCS12");
        m.put("ssl.keystore.password", storePassword);
        m.put("ssl.truststore.location", truststore().toString());
        m.put("ssl.truststore.type", "PKCS12");
        m.put("ssl.truststore.password", storePassword);
        return m;
    }

    /** {@code StorageTool format} arguments that create the SCRAM users in the new cluster's metadata. */
    List<String> scramUsers() {
        return List.of("--add-scram", MECHANISM + "=[name=" + BROKER_USER + ",password=" + brokerPassword + "]",
                "--add-scram", MECHANISM + "=[name=" + CLIENT_USER + ",password=" + clientPassword + "]");
    }

    /** TLS trusting the stack's CA: what the stack's readiness checks use. */
    public SSLContext sslContext() throws IOException {
        try (InputStream in = Files.newInputStream(truststore())) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, storePassword.toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("the stack's truststore " + truststore() + ": " + e.getMessage(), e);
        }
    }

    private void makeCertificates() throws IOException, InterruptedException {
        String pw = storePassword;
        Path ca = dir.resolve("ca.p12");
        Path csr = dir.resolve("server.csr");
        Path crt = dir.resolve("server.crt");
        String days = "30";
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=unclip local stack CA", "-ext", "bc:c", "-validity", days, "-keystore", ca.toString(),
                "-storetype", "PKCS12", "-storepass", pw);
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-storepass", pw,
                "-file", caPem().toString());
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=localhost", "-validity", days, "-keystore", serverKeystore().toString(), "-storetype", "PKCS12",
                "-storepass", pw);
        keytool("-certreq", "-alias", "server", "-keystore", serverKeystore().toString(), "-storepass", pw,
                "-file", csr.toString());
        keytool("-gencert", "-alias", "ca", "-keystore", ca.toString(), "-storepass", pw, "-infile", csr.toString(),
                "-outfile", crt.toString(), "-rfc", "-validity", days, "-ext", "SAN=dns:localhost,ip:127.0.0.1",
                "-ext", "KU=digitalSignature", "-ext", "EKU=serverAuth,clientAuth");
        // the chain: the CA first (trusted), then the signed reply onto the server's key, then the CA entry goes
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem().toString(), "-keystore",
                serverKeystore().toString(), "-storepass", pw);
        keytool("-importcert", "-alias", "server", "-file", crt.toString(), "-keystore",
                serverKeystore().toString(), "-storepass", pw);
        keytool("-delete", "-alias", "ca", "-keystore", serverKeystore().toString(), "-storepass", pw);
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem().toString(), "-keystore",
                truststore().toString(), "-storetype", "PKCS12", "-storepass", pw);
        Files.delete(csr);
        Files.delete(crt);
    }

    private void keytool(String... args) throws IOException, InterruptedException {
        Path keytool = Path.of(Processes.java()).resolveSibling("keytool");
        List<String> cmd = new ArrayList<>();
        cmd.add(keytool.toString());
        cmd.addAll(List.of(args));
        Path log = dir.resolve("keytool.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("keytool " + args[0] + " failed:\n" + Files.readString(log));
        }
    }

    private void writeOwnerOnly(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private void writeProperties(Path file, Properties p) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            p.store(out, "unclip stack up --secure (secrets: owner only)");
        }
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    private static String secret() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
