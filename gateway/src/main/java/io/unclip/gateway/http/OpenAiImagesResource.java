package io.unclip.gateway.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.RestMulti;
import org.jboss.resteasy.reactive.multipart.FileUpload;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.TimeoutException;
import io.smallrye.mutiny.Uni;
import io.unclip.api.v1.Failure;
import io.unclip.api.v1.GenerateEvent;
import io.unclip.api.v1.GenerateRequest;
import io.unclip.api.v1.GeneratedImage;
import io.unclip.api.v1.GetJobRequest;
import io.unclip.api.v1.JobState;
import io.unclip.api.v1.JobStatus;
import io.unclip.api.v1.StageProgress;
import io.unclip.api.v1.VariationsRequest;
import io.unclip.engine.stage.InvalidRequestException;
import io.unclip.gateway.ImageJobs;
import io.unclip.gateway.JobRefusedException;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

/**
 * OpenAI's Images API on the gateway, so that the OpenAI SDKs and curl scripts work against it
 * ({@code baseURL = http://gateway:8080/v1}):
 * <ul>
 *   <li>{@code POST /v1/images/generations}: JSON ({@link OpenAiRequest}); the answer {@code {created, data: [{b64_json
 *       | url}], ...}} once the job has its images, or with {@code stream: true} server-sent events: up to
 *       {@code partial_images} {@code image_generation.partial_image} events from the cascade's previews
 *       ({@link PartialImages}), then one {@code image_generation.completed} event per image.</li>
 *   <li>{@code POST /v1/images/variations}: multipart ({@code image} file, {@code n}, {@code size},
 *       {@code response_format}, {@code user}, {@code unclip} as a JSON text field): Variations.</li>
 *   <li>{@code GET /v1/images/files/{job}/{index}.png}: the images of {@code response_format: url}. A capability URL
 *       (the job id is a random UUID only its caller was told), served without a key while the gateway keeps the
 *       job (an hour after it ended).</li>
 * </ul>
 * A job that fails answers with the HTTP status of its failure and OpenAI's error JSON (in a stream: an
 * {@code error} event with that JSON, which the SDKs raise). Each response carries the job in {@code unclip}
 * (job_id, seed), for GET /v1/unclip/jobs/{id}.
 */
@Path("/v1/images")
public class OpenAiImagesResource {
    private static final Logger LOG = Logger.getLogger(OpenAiImagesResource.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> GENERATE_PARAMS = Set.of("prompt", "n", "size", "response_format", "stream",
            "partial_images", "background", "output_format");
    /** An event stream's opening comment, which SSE readers skip. */
    private static final byte[] SSE_OPEN = ": unclip\n\n".getBytes(StandardCharsets.UTF_8);

    @Inject
    ImageJobs jobs;

    @Inject
    ResultImages images;

    /** REST's own, so that the JSON answers read as they did when REST wrote them. */
    @Inject
    ObjectMapper mapper;

    @ConfigProperty(name = "unclip.gateway.public-url")
    Optional<String> publicUrl;

    @ConfigProperty(name = "unclip.gateway.http-wait", defaultValue = "10m")
    Duration httpWait;

    /**
     * JSON (the body's {@code stream} absent or false): the answer once the job has its images; or, with
     * {@code stream: true}, server-sent events. OpenAI's body says which, not {@code Accept} (the SDKs send
     * {@code Accept: application/json} either way), so one method reads the body once and answers either: a
     * {@link RestMulti} without {@code @Produces} sets its own Content-Type and status. (No route may read the body
     * before REST: over HTTP/2 REST then pauses an ended request, and Vert.x refuses that, Quarkus issue #34393.)
     */
    @POST
    @Path("generations")
    @Consumes(MediaType.APPLICATION_JSON)
    @StandsFor(StandsFor.GENERATE)
    public RestMulti<byte[]> generations(String body, @Context UriInfo uri) {
        Generation g = generation(body);
        String base = base(uri);
        if (g.answer().stream()) {
            Multi<byte[]> events = stream(jobs(() -> jobs.generate(g.request(), null)), g.answer(), base);
            // a comment first, so that the status and headers go out now, as an event stream's do, not with the
            // first event (that may be the image, minutes later)
            return RestMulti.fromMultiData(Multi.createFrom().item(SSE_OPEN).onCompletion().switchTo(events))
                    .header(HttpHeaders.CONTENT_TYPE, MediaType.SERVER_SENT_EVENTS).build();
        }
        Uni<Response> answer = wait(jobs(() -> jobs.generate(g.request(), Instant.now().plus(httpWait))), g.answer(),
                base);
        return RestMulti.fromUniResponse(answer, r -> Multi.createFrom().item(json(r.getEntity())),
                r -> Map.of(HttpHeaders.CONTENT_TYPE, List.of(MediaType.APPLICATION_JSON)), Response::getStatus);
    }

    private byte[] json(Object entity) {
        try {
            return mapper.writeValueAsBytes(entity);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private record Generation(GenerateRequest request, OpenAiRequest.Answer answer) {
    }

    /** The request and how to answer it; OpenAiRequest's refusals already name OpenAI's parameters. */
    private Generation generation(String body) {
        JsonNode req = body(body);
        OpenAiRequest.refuseUnknown(req, GENERATE_PARAMS);
        String user = OpenAiRequest.text(req, "user");
        int size = OpenAiRequest.size(OpenAiRequest.text(req, "size"), jobs.cascade());
        OpenAiRequest.Answer answer = OpenAiRequest.answer(req, size);
        GenerateRequest.Builder r = OpenAiRequest.unclip(req.get("unclip"), GenerateRequest.newBuilder());
        String prompt = OpenAiRequest.text(req, "prompt");
        r.setPrompt(prompt == null ? "" : prompt).setSize(size);
        Integer n = OpenAiRequest.integer("n", req.get("n"), 0, Integer.MAX_VALUE);
        r.setNumImages(n == null ? 1 : n);
        if (answer.stream() && answer.partialImages() > 0 && r.getPreviewInterval() == 0) {
            r.setPreviewInterval(1); // PartialImages picks N of them; the worker sends at most one per 100 ms
        }
        LOG.debugf("images/generations for user '%s'", user == null ? "" : OpenAiRequest.cut(user));
        return new Generation(r.build(), answer);
    }

    /** The job's events; the validator's refusals in OpenAI's parameter names. */
    private static Multi<GenerateEvent> jobs(java.util.function.Supplier<Multi<GenerateEvent>> call) {
        try {
            return call.get();
        } catch (InvalidRequestException e) {
            throw OpenAiRequest.renamed(e);
        }
    }

    @POST
    @Path("variations")
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces(MediaType.APPLICATION_JSON)
    @StandsFor(StandsFor.VARIATIONS)
    public Uni<Response> variations(@RestForm("image") FileUpload image, @RestForm("n") String n,
                             @RestForm("size") String size, @RestForm("response_format") String responseFormat,
                             @RestForm("user") String user, @RestForm("model") String model,
                             @RestForm("unclip") String unclip, @Context UriInfo uri) {
        try {
            if (image == null) {
                throw new InvalidRequestException("image", "is required (a multipart file field)");
            }
            ObjectNode form = JSON.createObjectNode();
            form.put("response_format", responseFormat);
            int s = OpenAiRequest.size(size, jobs.cascade());
            OpenAiRequest.Answer answer = OpenAiRequest.answer(form, s);
            VariationsRequest.Builder r = OpenAiRequest.unclip(unclip == null ? null : form.textNode(unclip),
                    VariationsRequest.newBuilder());
            Integer count = OpenAiRequest.integer("n", n == null ? null : form.textNode(n), 0, Integer.MAX_VALUE);
            r.setImage(upload(image)).setNumImages(count == null ? 1 : count).setSize(s);
            LOG.debugf("images/variations for user '%s'", user == null ? "" : OpenAiRequest.cut(user));
            return wait(jobs.variations(r.build(), Instant.now().plus(httpWait)), answer, base(uri));
        } catch (InvalidRequestException e) {
            throw OpenAiRequest.renamed(e);
        }
    }

    @GET
    @Path("files/{job}/{index: [0-9]{1,3}}.png")
    @Produces("image/png")
    @CapabilityUrl
    public Response file(@PathParam("job") String job, @PathParam("index") int index) {
        JobStatus s = jobs.getJob(GetJobRequest.newBuilder().setJobId(job).build());
        if (s.getState() != JobState.SUCCEEDED) {
            throw new JobRefusedException(JobRefusedException.Reason.NOT_FOUND, "job " + job + " has no images ("
                    + s.getState().name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
        GeneratedImage img = s.getResult().getImagesList().stream().filter(i -> i.getIndex() == index).findFirst()
                .orElseThrow(() -> new JobRefusedException(JobRefusedException.Reason.NOT_FOUND, "job " + job
                        + " has no image " + index));
        byte[] png = images.png(img).orElseThrow(() -> new JobRefusedException(JobRefusedException.Reason.NOT_FOUND,
                "image " + index + " of job " + job + " is not readable by this gateway"));
        return Response.ok(png, "image/png").header("Cache-Control", "private, max-age=3600").build();
    }

    private static JsonNode body(String body) {
        try {
            JsonNode n = JSON.readTree(body == null ? "" : body);
            if (n instanceof ObjectNode) {
                return n;
            }
        } catch (IOException e) {
            throw new InvalidRequestException("body", "is not JSON: " + OpenAiRequest.cut(e.getMessage()));
        }
        throw new InvalidRequestException("body", "must be a JSON object of the Images API's parameters");
    }

    private static ByteString upload(FileUpload f) {
        try {
            if (Files.size(f.uploadedFile()) > io.unclip.service.validate.Limits.MAX_IMAGE_BYTES) {
                throw new InvalidRequestException("image", "must be at most "
                        + io.unclip.service.validate.Limits.MAX_IMAGE_BYTES + " bytes, got " + f.size());
            }
            return ByteString.copyFrom(Files.readAllBytes(f.uploadedFile()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the uploaded image", e);
        }
    }

    private String base(UriInfo uri) {
        String b = publicUrl.map(String::strip).filter(s -> !s.isEmpty()).orElse(uri.getBaseUri().toString());
        return b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
    }

    /** Waits for the job's end: its images, or its failure as its status and OpenAI's error. */
    private Uni<Response> wait(Multi<GenerateEvent> events, OpenAiRequest.Answer answer, String base) {
        return events.filter(io.unclip.gateway.http.OpenAiImagesResource::terminal).collect().last()
                .ifNoItem().after(httpWait).failWith(() -> new TimeoutException())
                .map(last -> last == null ? OpenAiError.response(500, "the job's stream ended without its end", null)
                        : terminalResponse(last, answer, base))
                .onFailure().recoverWithItem(this::failure);
    }

    static boolean terminal(GenerateEvent e) {
        return e.hasResult() || e.hasFailed() || e.hasCancelled();
    }

    private Response failure(Throwable t) {
        if (t instanceof TimeoutException) {
            return OpenAiError.response(504, "the job did not finish within unclip.gateway.http-wait (" + httpWait
                    + "); it was cancelled", null);
        }
        OpenAiError e = HttpErrors.body(t);
        return Response.status(statusOf(t)).type(MediaType.APPLICATION_JSON_TYPE).entity(e).build();
    }

    private static int statusOf(Throwable t) {
        if (t instanceof InvalidRequestException) {
            return 400;
        }
        if (t instanceof JobRefusedException r) {
            return HttpErrors.status(r.reason());
        }
        return 500;
    }

    private Response terminalResponse(GenerateEvent last, OpenAiRequest.Answer answer, String base) {
        if (!last.hasResult()) {
            OpenAiError e = jobError(last);
            return Response.status(status(last)).type(MediaType.APPLICATION_JSON_TYPE).entity(e).build();
        }
        List<Map<String, Object>> data = new ArrayList<>();
        for (GeneratedImage img : last.getResult().getImagesList()) {
            data.add(image(last.getJobId(), img, answer.format(), base));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("created", last.getTime().getSeconds());
        out.put("data", data);
        out.put("background", "opaque");
        out.put("output_format", "png");
        out.put("size", OpenAiRequest.sizeText(last.getResult().getParams().getSize() > 0
                ? last.getResult().getParams().getSize() : first(last).getWidth()));
        out.put("unclip", Map.of("job_id", last.getJobId(), "seed", Long.toUnsignedString(first(last).getSeed())));
        return Response.ok(out, MediaType.APPLICATION_JSON_TYPE).build();
    }

    private static GeneratedImage first(GenerateEvent last) {
        return last.getResult().getImagesCount() == 0 ? GeneratedImage.getDefaultInstance()
                : last.getResult().getImages(0);
    }

    private Map<String, Object> image(String jobId, GeneratedImage img, OpenAiRequest.Format format, String base) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (format == OpenAiRequest.Format.URL) {
            m.put("url", base + "/v1/images/files/" + jobId + "/" + img.getIndex() + ".png");
        } else {
            m.put("b64_json", Base64.getEncoder().encodeToString(images.png(img).orElseThrow(() ->
                    new IllegalStateException("image " + img.getIndex() + " of job " + jobId + " is a reference this"
                            + " gateway cannot read (" + img.getImage().getUri() + "): set unclip.blobs.dir"))));
        }
        return m;
    }

    /** A failed or cancelled job, as OpenAI's error. */
    private static OpenAiError jobError(GenerateEvent last) {
        if (last.hasCancelled()) {
            return OpenAiError.of(409, "job " + last.getJobId() + " was cancelled (" + last.getCancelled().getReason()
                    + ")", null);
        }
        Failure f = last.getFailed();
        String param = f.getField().isEmpty() ? null : OpenAiRequest.param(f.getField());
        return OpenAiError.of(status(last), "job " + last.getJobId() + " failed: " + f.getMessage(), param);
    }

    /** The HTTP status of a job's failure code. */
    private static int status(GenerateEvent last) {
        if (last.hasCancelled()) {
            return 409;
        }
        return switch (last.getFailed().getCode()) {
            case INVALID_REQUEST -> 400;
            case MODEL_UNAVAILABLE -> 503;
            case OVERLOADED -> 429;
            case DEADLINE_EXCEEDED -> 504;
            case CANCELLED_BY_CLIENT -> 409;
            default -> 500;
        };
    }

    /** The streamed answer: partial images, then one completed event per image, or an error event. */
    private Multi<byte[]> stream(Multi<GenerateEvent> events, OpenAiRequest.Answer answer, String base) {
        PartialImages partial = new PartialImages(answer.partialImages());
        Function<GenerateEvent, List<byte[]>> map = e -> {
            List<byte[]> out = new ArrayList<>();
            StageProgress p = partial.next(e);
            if (p != null) {
                Map<String, Object> m = common("image_generation.partial_image", e, answer);
                m.put("b64_json", Base64.getEncoder().encodeToString(p.getPreviewPng().toByteArray()));
                m.put("partial_image_index", partial.sent() - 1);
                out.add(sse("image_generation.partial_image", m));
            } else if (e.hasResult()) {
                for (GeneratedImage img : e.getResult().getImagesList()) {
                    Map<String, Object> m = common("image_generation.completed", e, answer);
                    m.putAll(image(e.getJobId(), img, OpenAiRequest.Format.B64_JSON, base));
                    if (answer.format() == OpenAiRequest.Format.URL) {
                        m.putAll(image(e.getJobId(), img, OpenAiRequest.Format.URL, base));
                    }
                    m.put("size", OpenAiRequest.sizeText(img.getWidth()));
                    m.put("unclip", Map.of("job_id", e.getJobId(), "index", img.getIndex(),
                            "seed", Long.toUnsignedString(img.getSeed())));
                    out.add(sse("image_generation.completed", m));
                }
            } else if (e.hasFailed() || e.hasCancelled()) {
                out.add(sse("error", jobError(e)));
            }
            return out;
        };
        return events.onItem().transformToIterable(map)
                .onFailure().recoverWithItem(t -> sse("error", HttpErrors.body(t)));
    }

    private static Map<String, Object> common(String type, GenerateEvent e, OpenAiRequest.Answer answer) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type);
        m.put("created_at", e.getTime().getSeconds());
        m.put("size", OpenAiRequest.sizeText(answer.size()));
        m.put("quality", "auto");
        m.put("background", "opaque");
        m.put("output_format", "png");
        return m;
    }

    /** One event in text/event-stream's grammar, as Quarkus writes it: {@code event:NAME}, {@code data:JSON}. */
    static byte[] sse(String name, Object data) {
        StringBuilder b = new StringBuilder("event:").append(name).append('\n');
        for (String line : JsonDoorResource.json(data).split("\n", -1)) {
            b.append("data:").append(line).append('\n');
        }
        return b.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }

}
