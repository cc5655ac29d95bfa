package io.unclip.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;

import org.junit.jupiter.api.Test;

import io.unclip.deploy.LocalStack;
import io.unclip.service.kafka.Topics;

/** The local stack creates exactly the topics the services use (it lacked stage.captioner once). */
class TopicListTest {
    @Test
    void theLocalStackCreatesEveryTopicOfThePipeline() {
        assertEquals(Set.copyOf(Topics.ALL), Set.copyOf(LocalStack.TOPICS));
    }
}
