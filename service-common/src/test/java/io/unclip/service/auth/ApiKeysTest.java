package io.unclip.service.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.grpc.Status;

/** The keys file: hashes only, methods per key, reloaded on change, a bad edit keeps the last good keys. */
class ApiKeysTest {
    @TempDir
    Path dir;

    static final String GENERATE = "unclip.v1.ImageService/Generate";
    static final String GET_JOB = "unclip.v1.ImageService/GetJob";

    @Test
    void aKeyIsFoundByItsHashAndTheFileHoldsNoKey() throws Exception {
        String alice = ApiKeys.newKey();
        String bob = ApiKeys.newKey();
        Path f = dir.resolve("keys");
        Files.writeString(f, "# comment\n\n" + ApiKeys.line(alice, "alice", List.of()) + "\n"
                + ApiKeys.line(bob, "bob", List.of(GET_JOB, "unclip.v1.Other/*")) + "  # reader\n");
        assertFalse(Files.readString(f).contains(alice), "only the hash is stored");
        ApiKeys keys = ApiKeys.load(f);
        assertEquals(2, keys.size());
        assertEquals("alice", keys.lookup(alice).orElseThrow().name());
        assertTrue(keys.lookup(alice).orElseThrow().allows(GENERATE));
        ApiKeys.Key b = keys.lookup(bob).orElseThrow();
        assertTrue(b.allows(GET_JOB));
        assertTrue(b.allows("unclip.v1.Other/Anything"));
        assertFalse(b.allows(GENERATE));
        assertTrue(keys.lookup(ApiKeys.newKey()).isEmpty());
        assertTrue(keys.lookup("").isEmpty());
    }

    @Test
    void theInterceptorsAnswersNameTheProblem() throws Exception {
        String reader = ApiKeys.newKey();
        Path f = dir.resolve("keys");
        Files.writeString(f, ApiKeys.line(reader, "reader", List.of(GET_JOB)) + "\n");
        ApiKeys keys = ApiKeys.load(f);
        assertEquals(Status.Code.UNAUTHENTICATED, BearerAuthInterceptor.check(keys, null, GENERATE).getCode());
        assertEquals(Status.Code.UNAUTHENTICATED, BearerAuthInterceptor.check(keys, "Basic abc", GENERATE).getCode());
        Status unknown = BearerAuthInterceptor.check(keys, "Bearer " + ApiKeys.newKey(), GET_JOB);
        assertEquals(Status.Code.UNAUTHENTICATED, unknown.getCode());
        assertTrue(unknown.getDescription().contains("not recognised"));
        Status denied = BearerAuthInterceptor.check(keys, "Bearer " + reader, GENERATE);
        assertEquals(Status.Code.PERMISSION_DENIED, denied.getCode());
        assertTrue(denied.getDescription().contains("'reader' may not call " + GENERATE), denied.getDescription());
        assertNull(BearerAuthInterceptor.check(keys, "bearer " + reader, GET_JOB));
    }

    @Test
    void anEditIsPickedUpAndABadEditKeepsTheLastGoodKeys() throws Exception {
        String first = ApiKeys.newKey();
        String second = ApiKeys.newKey();
        Path f = dir.resolve("keys");
        Files.writeString(f, ApiKeys.line(first, "first", List.of()) + "\n");
        ApiKeys keys = ApiKeys.load(f);
        assertTrue(keys.lookup(first).isPresent());

        Files.writeString(f, ApiKeys.line(second, "second", List.of()) + "\n"); // first revoked
        touch(f, 10);
        Thread.sleep(1100);
        assertTrue(keys.lookup(second).isPresent(), "added");
        assertTrue(keys.lookup(first).isEmpty(), "revoked");
        assertNull(keys.problem());

        Files.writeString(f, "sha256:nothex second\n");
        touch(f, 20);
        Thread.sleep(1100);
        assertTrue(keys.lookup(second).isPresent(), "a malformed file keeps the keys in force");
        assertTrue(keys.problem().contains("line 1"), keys.problem());
    }

    @Test
    void aMalformedFileAtStartIsAnError() throws Exception {
        Path f = dir.resolve("keys");
        Files.writeString(f, "sha256:" + "ab".repeat(32) + " name unclip.v1.ImageService\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.load(f));
        assertTrue(e.getMessage().contains("is not a gRPC method"), e.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> ApiKeys.load(dir.resolve("missing")));
        assertThrows(IllegalArgumentException.class, () -> ApiKeys.line("k", "two words", List.of()));
    }

    @Test
    void aKeyIsPrintableAsciiWithoutSpaces() {
        assertThrows(IllegalArgumentException.class, () -> new BearerCredentials("has space"));
        assertThrows(IllegalArgumentException.class, () -> new BearerCredentials(""));
    }

    private static void touch(Path f, int seconds) throws Exception {
        // a distinct mtime even on file systems with coarse timestamps
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().plusSeconds(seconds)));
    }
}
