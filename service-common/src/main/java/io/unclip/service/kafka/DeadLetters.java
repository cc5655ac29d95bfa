package io.unclip.service.kafka;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Future;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.StageName;
import io.unclip.service.record.Records;
import io.unclip.service.telemetry.TraceHeaders;

/**
 * Writes records that cannot be processed to unclip.dead-letter with the reason and the record's
 * coordinates. The value is kept up to {@link #MAX_VALUE_BYTES} (with its full size, and whether
 * it was cut): a copy of a record as large as the largest record the topics allow would not fit
 * in a record itself, and a dead letter that cannot be written must not keep its record from
 * being committed. It carries the current trace context (the span of the task that gave up on
 * the record, itself a child of the record's own).
 */
public final class DeadLetters {
    /** Longest value prefix a dead letter keeps. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;
    /** Longest key a dead letter keeps (job ids are at most 64 characters). */
    public static final int MAX_KEY_BYTES = 1024;

    private final Producer<String, byte[]> producer;
    private final String instance;

    public DeadLetters(Producer<String, byte[]> producer, String instance) {
        this.producer = producer;
        this.instance = instance;
    }

    public Future<RecordMetadata> send(ConsumerRecord<String, byte[]> rec, String reason, String jobId,
                                       StageName stage, FailureCode code) {
        DeadLetter.Builder dl = DeadLetter.newBuilder()
                .setTopic(rec.topic())
                .setPartition(rec.partition())
                .setOffset(rec.offset())
                .setReason(Records.cut(reason, Records.MAX_REASON))
                .setJobId(jobId == null ? "" : jobId)
                .setStage(stage == null ? StageName.STAGE_NAME_UNSPECIFIED : stage)
                .setCode(code)
                .setTimestamp(Records.now())
                .setProducer(Records.cut(instance, 128));
        if (rec.key() != null) {
            byte[] k = rec.key().getBytes(StandardCharsets.UTF_8);
            dl.setKey(ByteString.copyFrom(k, 0, Math.min(k.length, MAX_KEY_BYTES)));
        }
        byte[] v = rec.value();
        if (v != null) {
            dl.setValueSize(v.length)
                    .setValue(ByteString.copyFrom(v, 0, Math.min(v.length, MAX_VALUE_BYTES)))
                    .setValueTruncated(v.length > MAX_VALUE_BYTES);
        }
        String key = jobId != null && !jobId.isEmpty() ? jobId
                : rec.key() != null && rec.key().length() <= MAX_KEY_BYTES ? rec.key() : null;
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(Topics.DEAD_LETTER, key, dl.build().toByteArray());
        out.headers().add(RecordHeaders.RESULT_FORMAT,
                RecordHeaders.name(RecordHeaders.resultFormat(rec.headers())).getBytes(StandardCharsets.UTF_8));
        TraceHeaders.inject(out.headers());
        return producer.send(out);
    }
}
