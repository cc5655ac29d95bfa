package io.unclip.shapes;

/**
 * An object found by {@link SceneJudge}: classified attributes plus the measurements they came from
 * (normalised to the canvas side: centre, bounding-box width/height, fill = area / (w*h), and the area
 * centroid's relative height in its box, {@code vbias}: 0.5 for symmetric shapes, 2/3 for an upward triangle).
 */
public record DetectedObject(Shape shape, ObjectColor color, Size size, Cell cell,
                             double cx, double cy, double width, double height, double area, double fill, double vbias) {
}
