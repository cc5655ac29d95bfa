package io.unclip.gateway.http;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The gRPC method an HTTP route does the work of ({@code unclip.v1.ImageService/Generate}): the method an API key
 * must be allowed (its keys-file line) to call the route, so a key means the same at both doors. Every route under
 * /v1 has one, but capability URLs ({@link CapabilityUrl}).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface StandsFor {
    String value();

    String GENERATE = "unclip.v1.ImageService/Generate";
    String VARIATIONS = "unclip.v1.ImageService/Variations";
    String INTERPOLATE = "unclip.v1.ImageService/Interpolate";
    String GET_JOB = "unclip.v1.ImageService/GetJob";
    String CANCEL = "unclip.v1.ImageService/Cancel";
}
