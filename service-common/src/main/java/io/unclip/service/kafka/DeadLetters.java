package io.unclip.service.kafka;

import java.util.concurrent.Future;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import com.google.protobuf.ByteString;

import io.unclip.api.v1.DeadLetter;
import io.unclip.api.v1.FailureCode;
import io.unclip.api.v1.StageName;

/** Writes records that cannot be processed to unclip.dead-letter, unchanged, with the reason. */
public final class DeadLetters {
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
            dl.setKey(ByteString.copyFromUtf8(rec.key()));
        }
        if (rec.value() != null) {
            dl.setValue(ByteString.copyFrom(rec.value()));
        }
        String key = jobId != null && !jobId.isEmpty() ? jobId : rec.key();
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(Topics.DEAD_LETTER, key, dl.build().toByteArray());
        out.headers().add(RecordHeaders.RESULT_FORMAT,
                RecordHeaders.name(RecordHeaders.resultFormat(rec.headers())).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return producer.send(out);
    }
}
