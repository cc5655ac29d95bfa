package io.unclip.shapes;

import java.util.List;

/**
 * The intended content of a prompt: its objects (1 or 2, in prompt order), the relation of the first object to
 * the second (null if not stated) and the background (null if not stated).
 */
public record PromptSpec(List<ObjectSpec> objects, Relation relation, Background background) {
    public PromptSpec {
        objects = List.copyOf(objects);
        if (objects.isEmpty() || objects.size() > 2) throw new IllegalArgumentException("1 or 2 objects");
        if (relation != null && objects.size() != 2) throw new IllegalArgumentException("a relation needs two objects");
    }
}
