package io.unclip.deploy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;

/**
 * The Kubernetes manifests of deploy/k8s as the API server would get them: rendered by the real
 * kustomize (the one built into kubectl; {@code -Dunclip.kubectl=PATH} to name another binary) and
 * read into fabric8's model classes of the Kubernetes API, strictly: a field the schema does not
 * have fails. fabric8's classes keep unknown fields in an "additional properties" map; that
 * catch-all is switched off here. KEDA, Strimzi and cert-manager publish no Java model on Maven Central, so their
 * resources are read into the records below, which spell out the fields these manifests use (an
 * unknown one fails the same way).
 */
final class Manifests {
    static final Path K8S = Path.of("k8s");

    private static final ObjectMapper STRICT = strictMapper();

    private static final Map<String, Class<?>> TYPES = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Secret", Secret.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("keda.sh/v1alpha1/ScaledObject", ScaledObject.class),
            Map.entry("keda.sh/v1alpha1/TriggerAuthentication", TriggerAuthentication.class),
            Map.entry("kafka.strimzi.io/v1beta2/KafkaTopic", KafkaTopic.class),
            Map.entry("cert-manager.io/v1/Issuer", Issuer.class),
            Map.entry("cert-manager.io/v1/Certificate", Certificate.class));

    private Manifests() {
    }

    // --- KEDA (keda.sh/v1alpha1) and Strimzi (kafka.strimzi.io/v1beta2): the fields used here

    record ScaledObject(String apiVersion, String kind, ObjectMeta metadata, ScaledObjectSpec spec) {
    }

    record ScaledObjectSpec(ScaleTarget scaleTargetRef, Integer minReplicaCount, Integer maxReplicaCount,
                            Integer cooldownPeriod, Integer pollingInterval, List<ScaleTrigger> triggers) {
    }

    record ScaleTarget(String apiVersion, String kind, String name) {
    }

    /** {@code metadata} is the scaler's own map: the test checks its keys against the Kafka scaler's. */
    record ScaleTrigger(String type, String name, Map<String, String> metadata, AuthRef authenticationRef) {
    }

    record AuthRef(String name, String kind) {
    }

    record TriggerAuthentication(String apiVersion, String kind, ObjectMeta metadata, TriggerAuthSpec spec) {
    }

    record TriggerAuthSpec(List<SecretTarget> secretTargetRef) {
    }

    record SecretTarget(String parameter, String name, String key) {
    }

    record KafkaTopic(String apiVersion, String kind, ObjectMeta metadata, KafkaTopicSpec spec) {
    }

    record KafkaTopicSpec(String topicName, Integer partitions, Integer replicas, Map<String, String> config) {
    }

    // --- cert-manager (cert-manager.io/v1): the fields used here

    record Issuer(String apiVersion, String kind, ObjectMeta metadata, IssuerSpec spec) {
    }

    record IssuerSpec(Map<String, Object> selfSigned, CaIssuer ca) {
    }

    record CaIssuer(String secretName) {
    }

    record Certificate(String apiVersion, String kind, ObjectMeta metadata, CertificateSpec spec) {
    }

    record CertificateSpec(String secretName, String commonName, List<String> dnsNames, Boolean isCA,
                           String duration, String renewBefore, List<String> usages, CertPrivateKey privateKey,
                           IssuerRef issuerRef) {
    }

    record CertPrivateKey(String algorithm, Integer size, String encoding, String rotationPolicy) {
    }

    record IssuerRef(String name, String kind, String group) {
    }

    /** Every document of one rendering, each as its typed object. */
    record Rendered(String source, List<Object> objects) {
        <T> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        ConfigMap configMap(String name) {
            return all(ConfigMap.class).stream().filter(c -> c.getMetadata().getName().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError(source + ": no ConfigMap " + name));
        }

        Optional<Deployment> deployment(String name) {
            return all(Deployment.class).stream().filter(d -> d.getMetadata().getName().equals(name)).findFirst();
        }
    }

    /** Where each rendering is kept: what CI reads on a machine without kubectl, and what users may apply as is. */
    static final Path RENDERED = K8S.resolve("rendered");

    /**
     * {@code kubectl kustomize dir}, every document read strictly. The output must equal the committed rendering
     * {@code rendered/<name>.yaml} ({@code -Dunclip.k8s.update=true} rewrites it); without kubectl the committed
     * rendering is what is checked, so a machine without kustomize still reads real kustomize output.
     */
    static Rendered render(String name, Path dir) {
        Path golden = RENDERED.resolve(name + ".yaml");
        Optional<String> fresh = kubectlPresent() ? Optional.of(kustomize(dir)) : Optional.empty();
        try {
            if (fresh.isPresent() && Boolean.getBoolean("unclip.k8s.update")) {
                Files.createDirectories(RENDERED);
                Files.writeString(golden, HEADER + fresh.get());
            }
            if (!Files.isRegularFile(golden)) {
                throw new AssertionError("no committed rendering " + golden + ": render it with kubectl (mvn -pl deploy"
                        + " verify -Dtest=K8sManifestsTest -Dunclip.k8s.update=true)");
            }
            String kept = Files.readString(golden);
            if (fresh.isPresent() && !kept.equals(HEADER + fresh.get())) {
                throw new AssertionError(golden + " is not what kustomize renders from " + dir + " now: render it"
                        + " again (mvn -pl deploy verify -Dtest=K8sManifestsTest -Dunclip.k8s.update=true)");
            }
            return parse(golden + (fresh.isPresent() ? "" : " (kubectl not found: the committed rendering)"), kept);
        } catch (IOException e) {
            throw new AssertionError(golden + ": " + e.getMessage(), e);
        }
    }

    static final String HEADER = "# Rendered by kustomize from deploy/k8s (K8sManifestsTest keeps it current): apply with\n"
            + "# kubectl apply -f, or render your own with kubectl apply -k.\n";

    private static Boolean kubectl;

    private static synchronized boolean kubectlPresent() {
        if (kubectl == null) {
            try {
                Process p = new ProcessBuilder(System.getProperty("unclip.kubectl", "kubectl"), "version", "--client")
                        .redirectErrorStream(true).start();
                p.getInputStream().transferTo(OutputStream.nullOutputStream());
                kubectl = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException e) {
                kubectl = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kubectl = false;
            }
        }
        return kubectl;
    }

    static Rendered parse(String source, String yaml) {
        List<Object> out = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = STRICT.readerFor(JsonNode.class).readValues(yaml)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || doc.isNull() || doc.isEmpty()) {
                    continue;
                }
                String type = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                Class<?> cls = TYPES.get(type);
                if (cls == null) {
                    throw new AssertionError(source + ": a " + type + " (" + doc.path("metadata").path("name")
                            + "), which this test does not know");
                }
                try {
                    out.add(STRICT.treeToValue(doc, cls));
                } catch (com.fasterxml.jackson.databind.JsonMappingException e) {
                    throw new AssertionError(source + ": " + type + " " + doc.path("metadata").path("name") + ": "
                            + e.getOriginalMessage() + " at " + e.getPathReference(), e);
                }
            }
        } catch (IOException e) {
            throw new AssertionError(source + ": not YAML: " + e.getMessage(), e);
        }
        return new Rendered(source, out);
    }

    static String kustomize(Path dir) {
        String kubectl = System.getProperty("unclip.kubectl", "kubectl");
        ProcessBuilder pb = new ProcessBuilder(kubectl, "kustomize", dir.toString()).redirectErrorStream(true);
        try {
            Process p = pb.start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(kubectl + " kustomize " + dir + ": no answer in 60 s");
            }
            String text = out.toString(StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError(kubectl + " kustomize " + dir + " failed:\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new AssertionError("kustomize renders the manifests: " + kubectl + " (kubectl with its built-in"
                    + " kustomize) is needed on PATH, or -Dunclip.kubectl=PATH: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static ObjectMapper strictMapper() {
        SimpleModule noCatchAll = new SimpleModule("no-additional-properties");
        noCatchAll.setDeserializerModifier(new BeanDeserializerModifier() {
            @Override
            public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription bean,
                                                         BeanDeserializerBuilder builder) {
                if (bean.getBeanClass().getName().startsWith("io.fabric8.")) {
                    builder.setAnySetter(null); // an unknown field is then an error, not an "additional property"
                    builder.setIgnoreUnknownProperties(false);
                }
                return builder;
            }
        });
        return new ObjectMapper(new YAMLFactory())
                .registerModule(noCatchAll)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    }
}
