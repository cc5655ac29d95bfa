package io.unclip.gateway.http;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A route whose URL is its own credential, served without an API key: it names a random job id (a UUID, 122 random
 * bits) that only the job's caller was told, and it stops working when the gateway forgets the job (its retention).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface CapabilityUrl {
}
