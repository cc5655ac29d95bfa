package io.unclip.service.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.ImageRef;
import io.unclip.api.v1.JobResult;
import io.unclip.api.v1.ResultFormat;
import io.unclip.service.codec.ResultJson;
import io.unclip.service.record.Records;
import io.unclip.service.telemetry.TraceHeaders;
import io.unclip.service.validate.Checks;

/**
 * Writes a job's result to unclip.results, keyed by job id, in the encoding the job asked for:
 * a protobuf JobResult, or for JSON batch jobs a JSON object whose images are PNG files in the
 * result store ({@code <results dir>/<job id>/<index>.png}; rewriting the same bytes on a
 * redelivery is harmless). The record carries the current trace context ({@link TraceHeaders}).
 */
public final class ResultPublisher {
    private final Producer<String, byte[]> producer;
    private final Path resultsDir;

    public ResultPublisher(Producer<String, byte[]> producer, Path resultsDir) {
        this.producer = producer;
        this.resultsDir = resultsDir.toAbsolutePath().normalize();
    }

    public Path resultsDir() {
        return resultsDir;
    }

    public Future<RecordMetadata> publish(JobResult result, ResultFormat format) {
        byte[] value;
        if (format == ResultFormat.JSON) {
            value = ResultJson.render(result, writeImages(result));
        } else {
            value = result.toByteArray();
        }
        ProducerRecord<String, byte[]> rec = new ProducerRecord<>(Topics.RESULTS, result.getJobId(), value);
        RecordHeaders.put(rec.headers(), RecordHeaders.RESULT_FORMAT, RecordHeaders.name(format));
        TraceHeaders.inject(rec.headers());
        return producer.send(rec);
    }

    /**
     * {@code <results dir>/<job id>}. Job ids are checked where records come in (Checks.ID), but
     * a path built from one is checked too: it must name a directory right under the results dir.
     *
     * @throws IllegalArgumentException for an id that would leave it ("..", ".", "a/b", ...)
     */
    public Path jobDir(String jobId) {
        Path dir;
        try {
            dir = resultsDir.resolve(jobId).normalize();
        } catch (InvalidPathException e) {
            dir = null;
        }
        if (!Checks.isId(jobId) || dir == null || !resultsDir.equals(dir.getParent())) {
            throw new IllegalArgumentException("job id '" + Records.cut(jobId, 80) + "' does not name a directory in "
                    + resultsDir + "; result images not written");
        }
        return dir;
    }

    /** Writes the result's inline PNGs to the result store; returns their paths, in order. */
    public List<Path> writeImages(JobResult result) {
        List<Path> paths = new ArrayList<>();
        if (result.getImagesCount() == 0) {
            return paths;
        }
        Path dir = jobDir(result.getJobId());
        try {
            Files.createDirectories(dir);
            for (GeneratedImage g : result.getImagesList()) {
                Path file = dir.resolve(g.getIndex() + ".png");
                ImageRef ref = g.getImage();
                if (ref.getSourceCase() == ImageRef.SourceCase.PNG) {
                    Path tmp = Files.createTempFile(dir, g.getIndex() + "-", ".tmp");
                    Files.write(tmp, ref.getPng().toByteArray());
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    file = Path.of(java.net.URI.create(ref.getUri()));
                }
                paths.add(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write result images to " + dir, e);
        }
        return paths;
    }
}
