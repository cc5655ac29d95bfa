package io.unclip.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.smallrye.mutiny.Multi;
import io.unclip.api.v1.CancelRequest;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.InterpolateRequest;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.gateway.ImageJobs;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;

/**
 * The JSON door, for browsers and scripts: the ImageService as proto3 JSON over HTTP ({@link ProtoJson}).
 * <ul>
 *   <li>{@code POST /v1/unclip/generate | variations | interpolate}: the body is the proto3 JSON of
 *       GenerateRequest / VariationsRequest / InterpolateRequest (bytes fields base64); the answer is
 *       {@code text/event-stream}, one event per GenerateEvent, {@code data: <its proto3 JSON>}, ending after the
 *       terminal event (result, failed or cancelled). Closing the connection cancels the job, as on gRPC.</li>
 *   <li>{@code GET /v1/unclip/jobs/{id}}: JobStatus; {@code POST /v1/unclip/jobs/{id}/cancel}: CancelReply.</li>
 * </ul>
 * A refusal before the stream starts is an HTTP status with OpenAI's error JSON ({@link HttpErrors}); one after it
 * started (rare: a race for the last stream slot) is a last event named {@code error} with the same JSON.
 */
@Path("/v1/unclip")
public class JsonDoorResource {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    ImageJobs jobs;

    @POST
    @Path("generate")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @StandsFor(StandsFor.GENERATE)
    public Multi<OutboundSseEvent> generate(String body, @Context Sse sse) {
        return events(jobs.generate(ProtoJson.parse(body, GenerateRequest.newBuilder(), "").build(), null), sse);
    }

    @POST
    @Path("variations")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @StandsFor(StandsFor.VARIATIONS)
    public Multi<OutboundSseEvent> variations(String body, @Context Sse sse) {
        return events(jobs.variations(ProtoJson.parse(body, VariationsRequest.newBuilder(), "").build(), null), sse);
    }

    @POST
    @Path("interpolate")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @StandsFor(StandsFor.INTERPOLATE)
    public Multi<OutboundSseEvent> interpolate(String body, @Context Sse sse) {
        return events(jobs.interpolate(ProtoJson.parse(body, InterpolateRequest.newBuilder(), "").build(), null),
                sse);
    }

    @GET
    @Path("jobs/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @StandsFor(StandsFor.GET_JOB)
    public String job(@PathParam("id") String id) {
        return ProtoJson.print(jobs.getJob(GetJobRequest.newBuilder().setJobId(id).build()));
    }

    @POST
    @Path("jobs/{id}/cancel")
    @Produces(MediaType.APPLICATION_JSON)
    @StandsFor(StandsFor.CANCEL)
    public String cancel(@PathParam("id") String id) {
        return ProtoJson.print(jobs.cancel(CancelRequest.newBuilder().setJobId(id).build()));
    }

    private static Multi<OutboundSseEvent> events(Multi<GenerateEvent> events, Sse sse) {
        return events.map(e -> sse.newEventBuilder().data(String.class, ProtoJson.print(e))
                        .mediaType(MediaType.TEXT_PLAIN_TYPE).build())
                .onFailure().recoverWithItem(t -> sse.newEventBuilder().name("error")
                        .data(String.class, json(HttpErrors.body(t))).mediaType(MediaType.TEXT_PLAIN_TYPE).build());
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
