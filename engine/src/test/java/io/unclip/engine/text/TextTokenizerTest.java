package io.unclip.engine.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.unclip.engine.onnx.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the hand-written word-level tokenizer.json of the tiny bundle ([PAD]=0 [UNK]=1 [BOS]=2 [EOS]=3). */
class TextTokenizerTest {
    private static final Path FILE = Fixtures.tinyModel("text_encoder", "tokenizer.json");
    private static TextTokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = TextTokenizer.load(FILE, 16);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void encodesWithSpecialTokensAndPadsToTheContextLength() {
        EncodedText e = tokenizer.encode("A small red circle at the top left");

        // [BOS] a small red circle at the top left [EOS] then padding
        assertArrayEquals(new long[] {2, 4, 28, 13, 24, 6, 7, 30, 32, 3, 0, 0, 0, 0, 0, 0}, e.ids());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, e.attentionMask());
        assertEquals(10, e.tokenCount());
        assertFalse(e.truncated());
    }

    @Test
    void truncationKeepsTheEndToken() {
        try (TextTokenizer short6 = TextTokenizer.load(FILE, 6)) {
            EncodedText e = short6.encode("a red circle and a blue square");
            assertArrayEquals(new long[] {2, 4, 13, 24, 5, 3}, e.ids());
            assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1}, e.attentionMask());
            assertTrue(e.truncated());
        }
    }

    @Test
    void batchIsRowMajor() {
        EncodedBatch b = tokenizer.encodeBatch(List.of("a red circle", "a blue square"));
        assertArrayEquals(new long[] {2, 16}, b.shape());
        long[] ids = b.ids();
        assertEquals(13, ids[2]);
        assertEquals(15, ids[16 + 2]);
        assertEquals(0, b.attentionMask()[16 + 5]);
        assertEquals(1, b.attentionMask()[16 + 4]);
    }

    @Test
    void decodesIdsBackToTextWithoutSpecialTokens() {
        String caption = "a large red circle at the top left and a small blue square at the bottom right,"
                + " on a gray background";
        try (TextTokenizer wide = TextTokenizer.load(FILE, 32)) {
            assertEquals(caption, wide.decode(wide.encode(caption).ids()));
        }
    }

    @Test
    void decodeRejectsIdsOutsideTheVocabulary() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tokenizer.decode(new long[] {4, 37}));
        assertEquals("token id 37 is outside the vocabulary (0..36)", e.getMessage());
    }

    @Test
    void reportsUnknownWordsAsWritten() {
        assertEquals(List.of(), tokenizer.unknownWords("a red circle on a white background"));
        assertEquals(List.of("Mauve", "😀", "hexagon"),
                tokenizer.unknownWords("a Mauve 😀 hexagon and a Mauve hexagon"));
        UnknownWordsException e = assertThrows(UnknownWordsException.class,
                () -> tokenizer.requireKnownWords("a red hexagon at the top"));
        assertEquals("words outside the vocabulary: 'hexagon'", e.getMessage());
        assertEquals(List.of("hexagon"), e.words());
    }

    @Test
    void unknownWordsBecomeTheUnknownToken() {
        assertEquals(1, tokenizer.encode("a hexagon").ids()[2]);
    }

    @Test
    void looksUpTokens() {
        assertEquals(37, tokenizer.vocabularySize());
        assertEquals(3, tokenizer.tokenId("[EOS]").getAsLong());
        assertEquals(0, tokenizer.padId());
        assertTrue(tokenizer.tokenId("hexagon").isEmpty());
    }

    @Test
    void missingOrBrokenFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        TokenizerException missing = assertThrows(TokenizerException.class,
                () -> TextTokenizer.load(dir.resolve("tokenizer.json"), 8));
        assertTrue(missing.getMessage().endsWith("tokenizer.json: tokenizer file not found"), missing.getMessage());

        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"model\": ");
        TokenizerException bad = assertThrows(TokenizerException.class, () -> TextTokenizer.load(broken, 8));
        assertTrue(bad.getMessage().startsWith(broken + ": not a readable tokenizer.json"), bad.getMessage());

        Path noPad = Files.writeString(dir.resolve("nopad.json"), Files.readString(FILE).replace("[PAD]", "[NIX]"));
        TokenizerException pad = assertThrows(TokenizerException.class, () -> TextTokenizer.load(noPad, 8));
        assertTrue(pad.getMessage().contains("no padding token"), pad.getMessage());
    }
}
