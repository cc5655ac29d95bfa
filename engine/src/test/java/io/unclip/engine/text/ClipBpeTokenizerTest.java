package io.unclip.engine.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unclip.engine.onnx.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A CLIP BPE tokenizer.json (openai/clip-vit-large-patch14's structure: NFC + whitespace +
 * lowercase normaliser, CLIP's split regex, byte-level BPE with "</w>" word ends,
 * RobertaProcessing adding BOS/EOS, no padding section), padded with the manifest's pad token
 * {@code <|endoftext|>}. The expected ids were worked out by hand from the fixture's merges
 * (make_karlo_fixtures.py PROMPTS), not by a tokenizer library.
 */
class ClipBpeTokenizerTest {
    private static final Path FILE = Fixtures.karloBundle().resolve("text_encoder/tokenizer.json");
    private static final Optional<String> EOS = Optional.of("<|endoftext|>");
    private static TextTokenizer tokenizer;
    private static JsonNode reference;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = TextTokenizer.load(FILE, 10, EOS);
        reference = new ObjectMapper().readTree(Fixtures.resource("stage-reference/karlo.json").toFile()).get("text");
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void encodesAsClipAndPadsWithEndOfText() {
        long bos = tokenizer.tokenId("<|startoftext|>").getAsLong();
        long eos = tokenizer.tokenId("<|endoftext|>").getAsLong();
        assertEquals(eos, tokenizer.padId());
        assertEquals(eos + 1, tokenizer.vocabularySize(), "EOS is the largest id, where CLIP pools");
        int checked = 0;
        for (JsonNode t : reference) {
            EncodedText e = tokenizer.encode(t.get("prompt").asText());
            assertArrayEquals(longs(t.get("ids")), e.ids(), t.get("prompt").asText());
            assertArrayEquals(longs(t.get("mask")), e.attentionMask(), t.get("prompt").asText());
            assertEquals(bos, e.ids()[0]);
            checked++;
        }
        assertEquals(3, checked);
        // "a red circle": whole-word merges; every id after EOS is EOS again, masked out
        EncodedText red = tokenizer.encode("a red circle");
        assertEquals(5, red.tokenCount());
        assertFalse(red.truncated());
        assertEquals(tokenizer.tokenId("red</w>").getAsLong(), red.ids()[2]);
        assertEquals(tokenizer.tokenId("circle</w>").getAsLong(), red.ids()[3]);
    }

    @Test
    void truncationKeepsEndOfText() {
        // "A Blue  SQUARE": a bl ue</w> s q u a r e</w> is 9 tokens, 11 with BOS and EOS: the last kept is EOS
        EncodedText e = tokenizer.encode("A Blue  SQUARE");
        assertTrue(e.truncated());
        assertEquals(10, e.tokenCount());
        assertEquals(tokenizer.padId(), e.ids()[9]);
        assertEquals(tokenizer.tokenId("r").getAsLong(), e.ids()[8]);
    }

    @Test
    void decodesWordEndsAsSpaces() {
        long[] ids = {id("a</w>"), id("bl"), id("ue</w>"), id("circle</w>")};
        assertEquals("a blue circle", tokenizer.decode(ids));
        long[] withSpecials = {id("<|startoftext|>"), id("red</w>"), id("<|endoftext|>"), id("<|endoftext|>")};
        assertEquals("red", tokenizer.decode(withSpecials));
    }

    @Test
    void withoutPadTokenThereIsNoPadding() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> TextTokenizer.load(FILE, 10));
        assertEquals(FILE + ": no padding token: add a \"padding\" section with \"pad_id\" or a special added token"
                + " named one of [[PAD], <pad>, <PAD>, <|pad|>], or name one in the manifest's pad_token (CLIP pads"
                + " with <|endoftext|>)", e.getMessage());
        e = assertThrows(TokenizerException.class, () -> TextTokenizer.load(FILE, 10, Optional.of("<|pad|>")));
        assertEquals(FILE + ": has no token '<|pad|>', which the manifest's pad_token names", e.getMessage());
    }

    @Test
    void aPadTokenOverridesTheFilesOwn() {
        // the tiny word-level tokenizer pads with [PAD] (0); a manifest may name another token
        Path tiny = Fixtures.tinyModel("text_encoder", "tokenizer.json");
        try (TextTokenizer own = TextTokenizer.load(tiny, 6);
             TextTokenizer eos = TextTokenizer.load(tiny, 6, Optional.of("[EOS]"))) {
            assertArrayEquals(new long[] {2, 4, 13, 3, 0, 0}, own.encode("a red").ids());
            assertArrayEquals(new long[] {2, 4, 13, 3, 3, 3}, eos.encode("a red").ids());
            assertArrayEquals(own.encode("a red").attentionMask(), eos.encode("a red").attentionMask());
        }
    }

    private static long id(String token) {
        return tokenizer.tokenId(token).getAsLong();
    }

    private static long[] longs(JsonNode t) {
        JsonNode data = t.get("data");
        long[] out = new long[data.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = data.get(i).asLong();
        }
        return out;
    }
}
