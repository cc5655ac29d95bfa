package io.unclip.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.unclip.deploy.Manifests.Certificate;
import io.unclip.deploy.Manifests.Issuer;
import io.unclip.deploy.Manifests.IssuerRef;
import io.unclip.deploy.Manifests.KafkaTopic;
import io.unclip.deploy.Manifests.Rendered;
import io.unclip.deploy.Manifests.ScaleTrigger;
import io.unclip.deploy.Manifests.ScaledObject;
import io.unclip.deploy.Manifests.TriggerAuthentication;
import io.unclip.service.kafka.KafkaClientProperties;
import io.unclip.service.kafka.KafkaSettings;
import io.unclip.service.kafka.Topics;

/**
 * deploy/k8s rendered as a user applies it (overlays/cpu, overlays/gpu, each also with the
 * kafka-sasl-ssl component, the stage-auth component and both switched on as their comments say;
 * kafka-topics; stage-tls), every document read strictly into the Kubernetes schema
 * ({@link Manifests}), then what the platform relies on: GPUs where (and only where) meant, ONNX
 * threads as requested CPUs, probes, the pod security settings, a PDB per Deployment, the topics
 * equal to {@link Topics}, KEDA in line with the workers' consumers, images the build produces, the
 * models copied from the models image, TLS on the gateway (and with stage-auth on the stages, the
 * service token, the gateway's side of both), the Kafka client settings reaching the services.
 * What needs a cluster (admission, the operators, the images themselves) is not checked here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class K8sManifestsTest {
    /** The diffusion stages: a GPU each in the gpu overlay. */
    static final Set<String> GPU_STAGES = Set.of("prior", "decoder", "upsampler");
    static final Set<String> STAGES = Set.of("text-encoder", "prior", "decoder", "upsampler", "captioner");
    static final String VERSION = "0.1.0";
    /** The images the Jib build produces: unclip/<module>:0.1.0 and :0.1.0-gpu, and the models image. */
    static final List<String> IMAGE_MODULES = List.of("text-encoder-svc", "prior-svc", "decoder-svc", "upsampler-svc",
            "captioner-svc", "gateway");
    static final String MODELS_IMAGE = "unclip/models:" + VERSION;
    static final int UID = 1000;
    static final String GPU = "nvidia.com/gpu";
    /** The Kafka scaler's settings these manifests may use; any other key (a typo) fails. */
    static final Set<String> KAFKA_TRIGGER_KEYS = Set.of("bootstrapServersFromEnv", "consumerGroup", "topic",
            "lagThreshold", "offsetResetPolicy", "sasl", "tls");

    static final String SASL = "kafka-sasl-ssl";
    static final String STAGE_AUTH = "stage-auth";
    /** What the stage-auth component serves on: TLS only. */
    static final int STAGE_TLS_PORT = 8443;

    Rendered cpu;
    Rendered gpu;
    Rendered cpuSasl;
    Rendered gpuSasl;
    Rendered cpuAuth;
    Rendered gpuAuth;
    Rendered cpuBoth;
    Rendered gpuBoth;
    Rendered topics;
    Rendered stageCerts;

    @BeforeAll
    void render() throws IOException {
        cpu = Manifests.render("cpu", Manifests.K8S.resolve("overlays/cpu"));
        gpu = Manifests.render("gpu", Manifests.K8S.resolve("overlays/gpu"));
        topics = Manifests.render("kafka-topics", Manifests.K8S.resolve("kafka-topics"));
        stageCerts = Manifests.render("stage-tls", Manifests.K8S.resolve("stage-tls"));
        // copies of k8s/ with each overlay's commented "components:" lines switched on, as README says
        List<Rendered> sasl = renderWith(SASL);
        cpuSasl = sasl.get(0);
        gpuSasl = sasl.get(1);
        List<Rendered> auth = renderWith(STAGE_AUTH);
        cpuAuth = auth.get(0);
        gpuAuth = auth.get(1);
        List<Rendered> both = renderWith(SASL, STAGE_AUTH);
        cpuBoth = both.get(0);
        gpuBoth = both.get(1);
    }

    /** overlays/cpu and overlays/gpu (in that order) with these components switched on. */
    static List<Rendered> renderWith(String... components) throws IOException {
        Path copy = Path.of("target", "k8s-with-" + String.join("+", components));
        copyTree(Manifests.K8S, copy);
        String with = "+" + String.join("+", components).replace("components/", "");
        return List.of(Manifests.render("cpu" + with, withComponents(copy.resolve("overlays/cpu"), components)),
                Manifests.render("gpu" + with, withComponents(copy.resolve("overlays/gpu"), components)));
    }

    List<Rendered> pipelines() {
        return List.of(cpu, gpu, cpuSasl, gpuSasl, cpuAuth, gpuAuth, cpuBoth, gpuBoth);
    }

    List<Rendered> gpuPipelines() {
        return List.of(gpu, gpuSasl, gpuAuth, gpuBoth);
    }

    List<Rendered> cpuPipelines() {
        return List.of(cpu, cpuSasl, cpuAuth, cpuBoth);
    }

    List<Rendered> saslPipelines() {
        return List.of(cpuSasl, gpuSasl, cpuBoth, gpuBoth);
    }

    List<Rendered> stageAuthPipelines() {
        return List.of(cpuAuth, gpuAuth, cpuBoth, gpuBoth);
    }

    // ------------------------------------------------------------------------------------------
    // the schema check itself

    @Test
    void misspeltFieldsFailTheStrictReading() {
        String deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      containers:
                        - name: x
                          image: x
                          %s
                """;
        Manifests.parse("good", deployment.formatted("readinessProbe: {httpGet: {path: /, port: 1}}"));
        for (String typo : List.of("readinesProbe: {httpGet: {path: /, port: 1}}",
                "securityContext: {runAsNonroot: true}",
                "resources: {limit: {cpu: 1}}")) {
            AssertionError e = assertThrows(AssertionError.class, () -> Manifests.parse("typo", deployment.formatted(typo)),
                    typo);
            assertTrue(e.getMessage().contains("Unrecognized field"), e.getMessage());
        }
        assertThrows(AssertionError.class, () -> Manifests.parse("typo", """
                apiVersion: keda.sh/v1alpha1
                kind: ScaledObject
                metadata: {name: x}
                spec: {scaleTargetRef: {name: x}, maxReplicas: 8}
                """));
        assertThrows(AssertionError.class, () -> Manifests.parse("typo", """
                apiVersion: kafka.strimzi.io/v1beta2
                kind: KafkaTopic
                metadata: {name: x}
                spec: {partition: 8}
                """));
        assertThrows(AssertionError.class, () -> Manifests.parse("typo", """
                apiVersion: cert-manager.io/v1
                kind: Certificate
                metadata: {name: x}
                spec: {secretName: x, dnsName: [x]}
                """));
        assertThrows(AssertionError.class, () -> Manifests.parse("unknown kind", """
                apiVersion: apps/v1
                kind: Deploymnet
                metadata: {name: x}
                """));
    }

    // ------------------------------------------------------------------------------------------
    // GPUs

    @Test
    void theGpuOverlayGivesEachDiffusionStageAGpuAndNothingElseOne() {
        for (Rendered r : gpuPipelines()) {
            for (Deployment d : r.all(Deployment.class)) {
                String name = d.getMetadata().getName();
                PodSpec pod = d.getSpec().getTemplate().getSpec();
                Container c = pod.getContainers().get(0);
                Map<String, String> env = env(r, c);
                if (GPU_STAGES.contains(name)) {
                    assertEquals(new Quantity("1"), c.getResources().getLimits().get(GPU), name);
                    assertEquals(Map.of("nvidia.com/gpu.present", "true"), pod.getNodeSelector(), name);
                    assertTrue(pod.getTolerations().stream().anyMatch(t -> GPU.equals(t.getKey())
                            && "Exists".equals(t.getOperator()) && "NoSchedule".equals(t.getEffect())), name);
                    assertEquals("cuda", env.get("UNCLIP_DEVICE"), name);
                    assertTrue(c.getImage().endsWith(":" + VERSION + "-gpu"), name + ": " + c.getImage());
                } else {
                    assertNoGpu(r, d);
                }
            }
        }
        for (Rendered r : cpuPipelines()) {
            r.all(Deployment.class).forEach(d -> assertNoGpu(r, d));
        }
    }

    static void assertNoGpu(Rendered r, Deployment d) {
        String name = r.source() + ": " + d.getMetadata().getName();
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        for (Container c : containers(pod)) {
            if (c.getResources() != null) {
                assertFalse(Optional.ofNullable(c.getResources().getLimits()).orElse(Map.of()).containsKey(GPU), name);
                assertFalse(Optional.ofNullable(c.getResources().getRequests()).orElse(Map.of()).containsKey(GPU), name);
            }
            assertFalse(c.getImage().endsWith("-gpu"), name + ": " + c.getImage());
        }
        assertTrue(pod.getNodeSelector() == null || pod.getNodeSelector().keySet().stream()
                .noneMatch(k -> k.startsWith("nvidia.com/")), name);
        assertTrue(pod.getTolerations().stream().map(Toleration::getKey).noneMatch(GPU::equals), name);
        assertEquals("cpu", env(r, pod.getContainers().get(0)).getOrDefault("UNCLIP_DEVICE", "cpu"), name);
    }

    // ------------------------------------------------------------------------------------------
    // ONNX Runtime threads

    @Test
    void everyStageRunsAsManyOnnxThreadsAsItRequestsCpus() {
        for (Rendered r : pipelines()) {
            for (String stage : STAGES) {
                String name = r.source() + ": " + stage;
                Container c = r.deployment(stage).orElseThrow(() -> new AssertionError(name)).getSpec().getTemplate()
                        .getSpec().getContainers().get(0);
                Quantity cpu = c.getResources().getRequests().get("cpu");
                assertNotNull(cpu, name + ": a CPU request");
                // ONNX Runtime's default (0) is every core of the node, whatever the pod was given
                int expected = Math.max(1, cpu.getNumericalAmount().intValue());
                assertEquals(Integer.toString(expected), env(r, c).get("UNCLIP_ONNX_INTRA_OP_THREADS"),
                        name + ": intra-op threads = its CPU request " + cpu);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // probes, security

    @Test
    void everyPodHasStartupLivenessAndReadinessProbesOnTheServicePort() {
        for (Rendered r : pipelines()) {
            for (Deployment d : r.all(Deployment.class)) {
                String name = r.source() + ": " + d.getMetadata().getName();
                List<Container> main = d.getSpec().getTemplate().getSpec().getContainers();
                assertEquals(1, main.size(), name);
                Container c = main.get(0);
                Map<String, String> env = env(r, c);
                boolean tls = "disabled".equals(env.get("QUARKUS_HTTP_INSECURE_REQUESTS"));
                int port = Integer.parseInt(tls ? env.get("QUARKUS_HTTP_SSL_PORT") : env.get("QUARKUS_HTTP_PORT"));
                Map<Probe, String> probes = new LinkedHashMap<>();
                probes.put(c.getStartupProbe(), "/q/health/started");
                probes.put(c.getLivenessProbe(), "/q/health/live");
                probes.put(c.getReadinessProbe(), "/q/health/ready");
                probes.forEach((probe, path) -> {
                    assertNotNull(probe, name + ": a probe on " + path);
                    HTTPGetAction get = probe.getHttpGet();
                    assertEquals(path, get.getPath(), name);
                    assertEquals(port, containerPort(c, get.getPort().getStrVal()), name + ": " + path);
                    assertEquals(tls ? "HTTPS" : null, get.getScheme(), name + ": " + path);
                });
                assertTrue(c.getStartupProbe().getFailureThreshold() * c.getStartupProbe().getPeriodSeconds() >= 60,
                        name + ": a minute to start");
            }
        }
    }

    @Test
    void everyContainerRunsAsUid1000WithAReadOnlyRootAndAWritableTmp() {
        for (Rendered r : pipelines()) {
            for (Deployment d : r.all(Deployment.class)) {
                String name = r.source() + ": " + d.getMetadata().getName();
                PodSpec pod = d.getSpec().getTemplate().getSpec();
                PodSecurityContext ps = pod.getSecurityContext();
                assertNotNull(ps, name);
                assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), name);
                for (Container c : containers(pod)) {
                    String where = name + "/" + c.getName();
                    SecurityContext s = c.getSecurityContext();
                    assertNotNull(s, where);
                    assertEquals(Boolean.TRUE, first(s.getRunAsNonRoot(), ps.getRunAsNonRoot()), where);
                    assertEquals(Long.valueOf(UID), first(s.getRunAsUser(), ps.getRunAsUser()), where);
                    assertEquals("RuntimeDefault", first(s.getSeccompProfile(), ps.getSeccompProfile()).getType(), where);
                    assertEquals(Boolean.TRUE, s.getReadOnlyRootFilesystem(), where);
                    assertEquals(Boolean.FALSE, s.getAllowPrivilegeEscalation(), where);
                    assertEquals(List.of("ALL"), s.getCapabilities().getDrop(), where);
                    assertTrue(s.getCapabilities().getAdd() == null || s.getCapabilities().getAdd().isEmpty(), where);
                    assertNull(s.getPrivileged(), where);
                    for (VolumeMount m : c.getVolumeMounts()) {
                        assertNotNull(volume(pod, m.getName()), where + ": volume " + m.getName());
                    }
                }
                Container c = pod.getContainers().get(0);
                VolumeMount tmp = mountAt(c, "/tmp").orElseThrow(() -> new AssertionError(name + ": /tmp"));
                assertNotNull(volume(pod, tmp.getName()).getEmptyDir(), name + ": /tmp is an emptyDir");
                assertFalse(Boolean.TRUE.equals(tmp.getReadOnly()), name);
                // where the tokenizers' native library goes must be writable too
                String djl = env(r, c).get("DJL_CACHE_DIR");
                assertNotNull(djl, name);
                assertTrue(djl.startsWith("/tmp/"), name + ": " + djl);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // disruption budgets, namespaces, secrets

    @Test
    void everyDeploymentHasItsOwnDisruptionBudget() {
        for (Rendered r : pipelines()) {
            List<Deployment> deployments = r.all(Deployment.class);
            List<PodDisruptionBudget> pdbs = r.all(PodDisruptionBudget.class);
            assertEquals(deployments.size(), pdbs.size(), r.source());
            for (Deployment d : deployments) {
                String name = r.source() + ": " + d.getMetadata().getName();
                Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
                List<PodDisruptionBudget> mine = pdbs.stream().filter(p -> labels.entrySet()
                        .containsAll(p.getSpec().getSelector().getMatchLabels().entrySet())).toList();
                assertEquals(1, mine.size(), name + ": exactly one PDB selects its pods");
                PodDisruptionBudget pdb = mine.get(0);
                int replicas = d.getSpec().getReplicas();
                if (replicas > 1) {
                    assertNull(pdb.getSpec().getMaxUnavailable(), name);
                    int min = pdb.getSpec().getMinAvailable().getIntVal();
                    assertTrue(min >= 1 && min < replicas, name + ": minAvailable " + min);
                } else {
                    assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntVal(), name);
                }
            }
        }
    }

    @Test
    void everythingIsInTheNamespaceAndNoSecretIsShipped() {
        for (Rendered r : pipelines()) {
            List<Namespace> ns = r.all(Namespace.class);
            assertEquals(1, ns.size(), r.source());
            String name = ns.get(0).getMetadata().getName();
            for (Object o : r.objects()) {
                if (o instanceof Namespace) {
                    continue;
                }
                assertEquals(name, meta(o).getNamespace(), r.source() + ": " + meta(o).getName());
            }
            assertTrue(r.all(Secret.class).isEmpty(), r.source() + ": Secrets are created by hand (README)");
        }
    }

    // ------------------------------------------------------------------------------------------
    // topics and KEDA

    @Test
    void theKafkaTopicsAreTopicsAllWithTheirConfigs() {
        List<KafkaTopic> declared = topics.all(KafkaTopic.class);
        assertEquals(declared.size(), topics.objects().size(), "kafka-topics holds KafkaTopics only");
        assertEquals(new TreeSet<>(Topics.ALL), declared.stream().map(t -> t.spec().topicName())
                .collect(Collectors.toCollection(TreeSet::new)));
        assertEquals(Topics.ALL.size(), declared.size(), "one KafkaTopic per topic");
        for (KafkaTopic t : declared) {
            String topic = t.spec().topicName();
            assertEquals(topic, t.metadata().getName());
            assertEquals(Topics.configs(topic), t.spec().config(), topic);
            assertTrue(t.spec().replicas() >= 1, topic);
        }
        for (Rendered r : pipelines()) {
            Map<String, String> config = r.configMap("unclip-config").getData();
            int partitions = Integer.parseInt(config.get("UNCLIP_KAFKA_PARTITIONS"));
            for (KafkaTopic t : declared) {
                assertEquals(partitions, t.spec().partitions(), t.spec().topicName() + " vs UNCLIP_KAFKA_PARTITIONS");
            }
            for (ScaledObject so : r.all(ScaledObject.class)) {
                assertTrue(so.spec().maxReplicaCount() <= partitions, r.source() + ": " + so.metadata().getName()
                        + " may scale past the partitions");
            }
            assertEquals("false", config.get("UNCLIP_KAFKA_CREATE_TOPICS"), "the Topic Operator owns the topics");
            // the topics' cluster is the one the pods talk to: <cluster>-kafka-bootstrap.<namespace>.svc
            String host = config.get("KAFKA_BOOTSTRAP_SERVERS").split(":")[0];
            for (KafkaTopic t : declared) {
                assertEquals(t.metadata().getLabels().get("strimzi.io/cluster") + "-kafka-bootstrap."
                        + t.metadata().getNamespace() + ".svc", host, t.spec().topicName());
            }
        }
    }

    @Test
    void kedaScalesEveryStageOnItsConsumerGroupAsTheWorkersConsume() {
        String reset = KafkaSettings.of("unused:9092").groupConsumer("g", "c").getProperty("auto.offset.reset");
        for (Rendered r : pipelines()) {
            List<ScaledObject> scaled = r.all(ScaledObject.class);
            assertEquals(STAGES, scaled.stream().map(s -> s.spec().scaleTargetRef().name()).collect(Collectors.toSet()),
                    r.source() + ": one ScaledObject per stage");
            assertEquals(STAGES.size(), scaled.size());
            for (ScaledObject so : scaled) {
                String target = so.spec().scaleTargetRef().name();
                String name = r.source() + ": " + target;
                Deployment d = r.deployment(target).orElseThrow(() -> new AssertionError(name + ": no Deployment"));
                Map<String, String> env = env(r, d.getSpec().getTemplate().getSpec().getContainers().get(0));
                assertTrue(so.spec().minReplicaCount() >= 1, name);
                Set<String> topicsRead = new HashSet<>();
                for (ScaleTrigger t : so.spec().triggers()) {
                    assertEquals("kafka", t.type(), name);
                    Map<String, String> m = t.metadata();
                    assertTrue(KAFKA_TRIGGER_KEYS.containsAll(m.keySet()), name + ": unknown keys in " + m.keySet());
                    assertEquals(reset, m.get("offsetResetPolicy"), name + ": as auto.offset.reset of the workers");
                    assertEquals("KAFKA_BOOTSTRAP_SERVERS", m.get("bootstrapServersFromEnv"), name);
                    assertNotNull(env.get("KAFKA_BOOTSTRAP_SERVERS"), name);
                    assertEquals("unclip." + target, m.get("consumerGroup"), name);
                    assertTrue(Integer.parseInt(m.get("lagThreshold")) >= 1, name);
                    topicsRead.add(m.get("topic"));
                }
                Set<String> expected = new HashSet<>(Set.of("stage." + target));
                if ("true".equals(env.get("UNCLIP_WORKER_CONSUME_JOBS"))) {
                    expected.add(Topics.JOBS);
                }
                assertEquals(expected, topicsRead, name + ": the topics its worker reads");
                assertTrue(Topics.ALL.containsAll(topicsRead), name);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // images, models

    @Test
    void everyImageIsOneTheBuildProduces() throws IOException {
        String rootPom = Files.readString(Path.of("..", "pom.xml"));
        Set<String> produced = new HashSet<>(Set.of(MODELS_IMAGE));
        for (String m : IMAGE_MODULES) {
            assertTrue(rootPom.contains("<module>" + m + "</module>"), m + " is a module of the build");
            produced.add("unclip/" + m + ":" + VERSION);
            produced.add("unclip/" + m + ":" + VERSION + "-gpu");
        }
        for (Rendered r : pipelines()) {
            for (Deployment d : r.all(Deployment.class)) {
                String name = d.getMetadata().getName();
                PodSpec pod = d.getSpec().getTemplate().getSpec();
                for (Container c : containers(pod)) {
                    assertTrue(produced.contains(c.getImage()), r.source() + ": " + name + ": " + c.getImage());
                }
                String module = name.equals("gateway") ? "gateway" : name + "-svc";
                assertTrue(pod.getContainers().get(0).getImage().startsWith("unclip/" + module + ":"), name);
            }
        }
    }

    @Test
    void everyPodCopiesTheModelBundleFromTheModelsImage() {
        for (Rendered r : pipelines()) {
            for (Deployment d : r.all(Deployment.class)) {
                String name = r.source() + ": " + d.getMetadata().getName();
                PodSpec pod = d.getSpec().getTemplate().getSpec();
                Container main = pod.getContainers().get(0);
                String modelsDir = env(r, main).get("UNCLIP_MODELS_DIR");
                assertEquals("/models/bundle", modelsDir, name);
                VolumeMount mounted = mountAt(main, "/models").orElseThrow(() -> new AssertionError(name));
                assertEquals(Boolean.TRUE, mounted.getReadOnly(), name + ": the service only reads the bundle");
                assertNotNull(volume(pod, mounted.getName()).getEmptyDir(), name);
                List<Container> fill = pod.getInitContainers().stream().filter(c -> c.getImage().equals(MODELS_IMAGE))
                        .toList();
                assertEquals(1, fill.size(), name);
                Container init = fill.get(0);
                VolumeMount target = init.getVolumeMounts().stream().filter(m -> m.getName().equals(mounted.getName()))
                        .findFirst().orElseThrow(() -> new AssertionError(name + ": the init container fills it"));
                // cp -R /models/bundle <target>/ makes <target>/bundle, seen by the service as /models/bundle
                assertEquals(List.of("cp", "-R", "/models/bundle", target.getMountPath() + "/"), init.getCommand(), name);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // the gateway's TLS and API keys

    @Test
    void theGatewayServesTlsOn443WithTheSecretsMounted() {
        for (Rendered r : pipelines()) {
            Deployment d = r.deployment("gateway").orElseThrow();
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            Container c = pod.getContainers().get(0);
            Map<String, String> env = env(r, c);
            assertEquals("disabled", env.get("QUARKUS_HTTP_INSECURE_REQUESTS"), "no plaintext listener");
            int tlsPort = Integer.parseInt(env.get("QUARKUS_HTTP_SSL_PORT"));
            assertEquals(List.of(tlsPort), c.getPorts().stream().map(ContainerPort::getContainerPort).toList(),
                    "only the TLS port is open");

            String tlsMount = secretMount(pod, c, "unclip-gateway-tls");
            assertEquals("/etc/unclip/tls", tlsMount);
            // the pair the service's TLS registry gets (kubernetes.io/tls keys), read as the service reads it
            assertEquals(List.of(new QuarkusTls.KeyCertPaths(tlsMount + "/tls.crt", tlsMount + "/tls.key")),
                    QuarkusTls.defaultKeyCerts(env), r.source() + ": gateway: its default TLS configuration");
            String keysMount = secretMount(pod, c, "unclip-api-keys");
            assertEquals("/etc/unclip/api-keys", keysMount);
            assertTrue(env.get("UNCLIP_AUTH_KEYS_FILE").startsWith(keysMount + "/"), env.get("UNCLIP_AUTH_KEYS_FILE"));

            Service svc = r.all(Service.class).stream().filter(s -> s.getMetadata().getName().equals("gateway"))
                    .findFirst().orElseThrow();
            assertEquals("LoadBalancer", svc.getSpec().getType());
            assertEquals(d.getSpec().getSelector().getMatchLabels(), svc.getSpec().getSelector());
            List<ServicePort> ports = svc.getSpec().getPorts();
            assertEquals(1, ports.size());
            ServicePort p = ports.get(0);
            assertEquals(443, p.getPort());
            assertEquals(tlsPort, containerPort(c, p.getTargetPort().getStrVal()));
            assertEquals("https", p.getAppProtocol(), "TLS, not h2c");
        }
    }

    /** The read-only mount path of the Secret volume {@code secret} in container {@code c}. */
    static String secretMount(PodSpec pod, Container c, String secret) {
        Volume v = pod.getVolumes().stream().filter(x -> x.getSecret() != null
                && secret.equals(x.getSecret().getSecretName())).findFirst()
                .orElseThrow(() -> new AssertionError("a volume of Secret " + secret));
        assertEquals(0440, v.getSecret().getDefaultMode(), secret + ": readable by the pod's group only");
        VolumeMount m = c.getVolumeMounts().stream().filter(x -> x.getName().equals(v.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(secret + " is mounted"));
        assertEquals(Boolean.TRUE, m.getReadOnly(), secret);
        return m.getMountPath();
    }

    // ------------------------------------------------------------------------------------------
    // a secured Kafka: the kafka-sasl-ssl component

    @Test
    void theSaslSslComponentReachesEveryKafkaClientAndKeda() {
        for (Rendered r : saslPipelines()) {
            Map<String, String> config = r.configMap("unclip-config").getData();
            assertTrue(config.get("KAFKA_BOOTSTRAP_SERVERS").endsWith(":9093"), "the TLS listener");
            for (Deployment d : r.all(Deployment.class)) {
                String name = r.source() + ": " + d.getMetadata().getName();
                PodSpec pod = d.getSpec().getTemplate().getSpec();
                Container c = pod.getContainers().get(0);
                Map<String, String> env = env(r, c);
                List<String> kafkaVars = env.keySet().stream().filter(k -> k.startsWith("KAFKA_")).toList();
                // what the services make of them: each a client setting (none dropped, none refused)
                Map<String, String> client = KafkaClientProperties.from(kafkaVars, env::get);
                assertEquals(Set.of("security.protocol", "sasl.mechanism", "sasl.jaas.config", "ssl.truststore.type",
                        "ssl.truststore.location"), client.keySet(), name);
                assertEquals("SASL_SSL", client.get("security.protocol"), name);
                EnvVar jaas = c.getEnv().stream().filter(e -> e.getName().equals("KAFKA_SASL_JAAS_CONFIG")).findFirst()
                        .orElseThrow();
                assertNull(jaas.getValue(), name + ": the JAAS line (a password) comes from a Secret");
                assertEquals("unclip-kafka-user", jaas.getValueFrom().getSecretKeyRef().getName(), name);
                String ca = secretMountAnyMode(pod, c, "unclip-kafka-ca");
                assertTrue(client.get("ssl.truststore.location").startsWith(ca + "/"), name);
            }
            Set<String> auths = r.all(TriggerAuthentication.class).stream().map(a -> a.metadata().getName())
                    .collect(Collectors.toSet());
            assertFalse(auths.isEmpty(), r.source());
            for (ScaledObject so : r.all(ScaledObject.class)) {
                for (ScaleTrigger t : so.spec().triggers()) {
                    String name = r.source() + ": " + so.metadata().getName();
                    assertNotNull(t.authenticationRef(), name);
                    assertTrue(auths.contains(t.authenticationRef().name()), name);
                    assertEquals("scram_sha512", t.metadata().get("sasl"), name);
                    assertEquals("enable", t.metadata().get("tls"), name);
                }
            }
        }
    }

    static String secretMountAnyMode(PodSpec pod, Container c, String secret) {
        Volume v = pod.getVolumes().stream().filter(x -> x.getSecret() != null
                && secret.equals(x.getSecret().getSecretName())).findFirst()
                .orElseThrow(() -> new AssertionError("a volume of Secret " + secret));
        return c.getVolumeMounts().stream().filter(x -> x.getName().equals(v.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(secret + " is mounted")).getMountPath();
    }

    // ------------------------------------------------------------------------------------------
    // TLS and the service token on the stages: the stage-auth component

    @Test
    void withStageAuthEveryStageServesTlsOnlyWithTheStageCertificate() {
        for (Rendered r : stageAuthPipelines()) {
            for (String stage : STAGES) {
                String name = r.source() + ": " + stage;
                PodSpec pod = r.deployment(stage).orElseThrow().getSpec().getTemplate().getSpec();
                Container c = pod.getContainers().get(0);
                Map<String, String> env = env(r, c);
                assertEquals("disabled", env.get("QUARKUS_HTTP_INSECURE_REQUESTS"), name + ": no plaintext listener");
                assertEquals(Integer.toString(STAGE_TLS_PORT), env.get("QUARKUS_HTTP_SSL_PORT"), name);
                assertEquals(List.of(STAGE_TLS_PORT), c.getPorts().stream().map(ContainerPort::getContainerPort).toList(),
                        name + ": only the TLS port is open");
                assertEquals(List.of(new QuarkusTls.KeyCertPaths(secretFile(pod, c, "unclip-stage-tls", "tls.crt"),
                                secretFile(pod, c, "unclip-stage-tls", "tls.key"))),
                        QuarkusTls.defaultKeyCerts(env), name + ": the default TLS configuration, from unclip-stage-tls");
            }
        }
    }

    @Test
    void withStageAuthEveryStageProbeIsHttpsOnTheTlsPort() {
        for (Rendered r : stageAuthPipelines()) {
            for (String stage : STAGES) {
                String name = r.source() + ": " + stage;
                Container c = r.deployment(stage).orElseThrow().getSpec().getTemplate().getSpec().getContainers().get(0);
                for (Probe probe : List.of(c.getStartupProbe(), c.getLivenessProbe(), c.getReadinessProbe())) {
                    HTTPGetAction get = probe.getHttpGet();
                    assertEquals("HTTPS", get.getScheme(), name + ": " + get.getPath());
                    assertEquals(STAGE_TLS_PORT, port(c, get.getPort()), name + ": " + get.getPath());
                }
            }
        }
    }

    @Test
    void withStageAuthEveryStageRequiresTheServiceToken() {
        for (Rendered r : stageAuthPipelines()) {
            for (String stage : STAGES) {
                String name = r.source() + ": " + stage;
                PodSpec pod = r.deployment(stage).orElseThrow().getSpec().getTemplate().getSpec();
                Container c = pod.getContainers().get(0);
                // the hash of the token the gateway presents (unclip keys new), as unclip.auth.keys-file
                assertEquals(secretFile(pod, c, "unclip-service-tokens", "keys"), env(r, c).get("UNCLIP_AUTH_KEYS_FILE"),
                        name);
            }
        }
    }

    @Test
    void withStageAuthEveryStageServiceIsTlsOnTheTlsPort() {
        for (Rendered r : stageAuthPipelines()) {
            List<Service> stageServices = stageServices(r);
            assertFalse(stageServices.isEmpty(), r.source() + ": the captioner's Service at least");
            for (Service svc : stageServices) {
                String name = r.source() + ": Service " + svc.getMetadata().getName();
                Container c = podOf(r, svc).getSpec().getTemplate().getSpec().getContainers().get(0);
                for (ServicePort p : svc.getSpec().getPorts()) {
                    assertEquals(STAGE_TLS_PORT, p.getPort(), name);
                    assertEquals(STAGE_TLS_PORT, port(c, p.getTargetPort()), name + ": the pods' TLS port");
                    assertEquals("https", p.getAppProtocol(), name + ": TLS, not h2c");
                }
            }
        }
    }

    @Test
    void withStageAuthTheGatewayPresentsTheServiceTokenAndTrustsTheStageCa() {
        for (Rendered r : stageAuthPipelines()) {
            PodSpec pod = r.deployment("gateway").orElseThrow().getSpec().getTemplate().getSpec();
            Container c = pod.getContainers().get(0);
            Map<String, String> env = env(r, c);
            String name = r.source() + ": gateway";
            assertEquals(secretFile(pod, c, "unclip-service-token", "token"), env.get("UNCLIP_AUTH_SERVICE_TOKEN_FILE"),
                    name);
            assertEquals(secretFile(pod, c, "unclip-stage-tls", "ca.crt"), env.get("UNCLIP_CAPTIONER_CA_FILE"), name);
            Volume ca = secretVolume(pod, "unclip-stage-tls");
            assertNotNull(ca.getSecret().getItems(), name + ": only the stages' CA");
            assertEquals(List.of("ca.crt"), ca.getSecret().getItems().stream().map(KeyToPath::getKey).toList(),
                    name + ": the stages' private key stays out of the gateway");
        }
    }

    /** In every rendering: the gateway calls the captioner's Service in the protocol the captioner serves. */
    @Test
    void theGatewayCallsTheCaptionerServiceOnAPortOfItsProtocol() {
        for (Rendered r : pipelines()) {
            Map<String, String> gw = env(r, r.deployment("gateway").orElseThrow().getSpec().getTemplate().getSpec()
                    .getContainers().get(0));
            String name = r.source() + ": gateway";
            String address = gw.get("UNCLIP_CAPTIONER_ADDRESS");
            assertNotNull(address, name);
            String host = address.substring(0, address.lastIndexOf(':'));
            int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
            Service svc = stageServices(r).stream().filter(x -> serviceNames(x).contains(host)).findFirst()
                    .orElseThrow(() -> new AssertionError(name + ": " + address + " names no stage Service"));
            Deployment target = podOf(r, svc);
            assertEquals("captioner", target.getMetadata().getName(), name + ": " + address);
            ServicePort sp = svc.getSpec().getPorts().stream().filter(p -> p.getPort() == port).findFirst()
                    .orElseThrow(() -> new AssertionError(name + ": " + address + ": the Service has no such port"));
            Container captioner = target.getSpec().getTemplate().getSpec().getContainers().get(0);
            Map<String, String> cap = env(r, captioner);
            boolean tls = "disabled".equals(cap.get("QUARKUS_HTTP_INSECURE_REQUESTS"));
            assertEquals(Integer.parseInt(tls ? cap.get("QUARKUS_HTTP_SSL_PORT") : cap.get("QUARKUS_HTTP_PORT")),
                    port(captioner, sp.getTargetPort()), name + ": " + address + " reaches the port the captioner serves");
            assertEquals(tls ? "https" : "kubernetes.io/h2c", sp.getAppProtocol(), name + ": " + address);
            assertEquals(tls, gw.containsKey("UNCLIP_CAPTIONER_CA_FILE"), name + ": TLS to the captioner exactly when it"
                    + " serves TLS");
            // BearerCredentials refuses to send a token in the clear to another host, and a stage with a keys
            // file refuses calls without one
            assertEquals(cap.containsKey("UNCLIP_AUTH_KEYS_FILE"), gw.containsKey("UNCLIP_AUTH_SERVICE_TOKEN_FILE"),
                    name + ": presents a token exactly when the captioner requires one");
            for (String stage : STAGES) {
                Map<String, String> e = env(r, r.deployment(stage).orElseThrow().getSpec().getTemplate().getSpec()
                        .getContainers().get(0));
                if (e.containsKey("UNCLIP_AUTH_KEYS_FILE")) {
                    assertEquals("disabled", e.get("QUARKUS_HTTP_INSECURE_REQUESTS"), r.source() + ": " + stage
                            + ": a token is only ever sent over TLS");
                }
            }
        }
    }

    @Test
    void theStageCertificateNamesEveryStageService() {
        String namespace = cpu.all(Namespace.class).get(0).getMetadata().getName();
        for (Object o : stageCerts.objects()) {
            assertTrue(o instanceof Certificate || o instanceof Issuer, stageCerts.source() + ": cert-manager only");
            assertEquals(namespace, meta(o).getNamespace(), meta(o).getName());
        }
        List<Certificate> certs = stageCerts.all(Certificate.class);
        Certificate stage = certs.stream().filter(c -> "unclip-stage-tls".equals(c.spec().secretName())).findFirst()
                .orElseThrow(() -> new AssertionError("a Certificate for Secret unclip-stage-tls"));
        assertTrue(stage.spec().usages().contains("server auth"), "a server certificate");
        // signed by a CA issuer whose CA cert-manager makes too: the Secret's ca.crt is that CA
        Issuer issuer = issuer(stage.spec().issuerRef());
        assertNotNull(issuer.spec().ca(), "signed by a CA Issuer, so that ca.crt is a CA the gateway can trust");
        Certificate ca = certs.stream().filter(c -> issuer.spec().ca().secretName().equals(c.spec().secretName()))
                .findFirst().orElseThrow(() -> new AssertionError("a Certificate for the CA Issuer's Secret"));
        assertEquals(Boolean.TRUE, ca.spec().isCA());
        assertNotNull(issuer(ca.spec().issuerRef()).spec().selfSigned());

        Set<String> dnsNames = new HashSet<>(stage.spec().dnsNames());
        for (Rendered r : stageAuthPipelines()) {
            for (Service svc : stageServices(r)) {
                assertTrue(dnsNames.containsAll(serviceNames(svc)), r.source() + ": the stage certificate names "
                        + serviceNames(svc) + ", has " + dnsNames);
            }
        }
    }

    Issuer issuer(IssuerRef ref) {
        assertEquals("Issuer", ref.kind(), "an Issuer of this namespace");
        return stageCerts.all(Issuer.class).stream().filter(i -> i.metadata().getName().equals(ref.name())).findFirst()
                .orElseThrow(() -> new AssertionError("no Issuer " + ref.name()));
    }

    /** The Services whose selector picks a stage's pods. */
    static List<Service> stageServices(Rendered r) {
        return r.all(Service.class).stream().filter(s -> STAGES.contains(podOf(r, s).getMetadata().getName())).toList();
    }

    /** The one Deployment whose pods a Service selects. */
    static Deployment podOf(Rendered r, Service s) {
        List<Deployment> picked = r.all(Deployment.class).stream().filter(d -> d.getSpec().getTemplate().getMetadata()
                .getLabels().entrySet().containsAll(s.getSpec().getSelector().entrySet())).toList();
        assertEquals(1, picked.size(), r.source() + ": Service " + s.getMetadata().getName() + " selects one Deployment");
        return picked.get(0);
    }

    /** The names a Service answers to in the cluster's DNS (the short one from its own namespace). */
    static Set<String> serviceNames(Service s) {
        String n = s.getMetadata().getName();
        String ns = s.getMetadata().getNamespace();
        return Set.of(n, n + "." + ns, n + "." + ns + ".svc", n + "." + ns + ".svc.cluster.local");
    }

    // ------------------------------------------------------------------------------------------
    // Prometheus

    @Test
    void thePrometheusAnnotationsFollowTheServingPort() {
        for (Rendered r : pipelines()) {
            for (Deployment d : r.all(Deployment.class)) {
                String name = r.source() + ": " + d.getMetadata().getName();
                Map<String, String> a = d.getSpec().getTemplate().getMetadata().getAnnotations();
                Map<String, String> env = env(r, d.getSpec().getTemplate().getSpec().getContainers().get(0));
                boolean tls = "disabled".equals(env.get("QUARKUS_HTTP_INSECURE_REQUESTS"));
                assertEquals("true", a.get("prometheus.io/scrape"), name);
                assertEquals("/q/metrics", a.get("prometheus.io/path"), name);
                assertEquals(tls ? env.get("QUARKUS_HTTP_SSL_PORT") : env.get("QUARKUS_HTTP_PORT"),
                        a.get("prometheus.io/port"), name);
                assertEquals(tls ? "https" : null, a.get("prometheus.io/scheme"), name);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // helpers

    /** The container's environment as the kubelet builds it: envFrom ConfigMaps first, env entries win. */
    static Map<String, String> env(Rendered r, Container c) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFromSource from : c.getEnvFrom()) {
            assertNotNull(from.getConfigMapRef(), c.getName() + ": envFrom a ConfigMap only");
            env.putAll(r.configMap(from.getConfigMapRef().getName()).getData());
        }
        Set<String> seen = new HashSet<>();
        for (EnvVar e : c.getEnv()) {
            assertTrue(seen.add(e.getName()), c.getName() + ": " + e.getName() + " set twice");
            env.put(e.getName(), e.getValue() != null ? e.getValue() : "<from " + e.getValueFrom() + ">");
        }
        return env;
    }

    /** The one volume of Secret {@code secret}. */
    static Volume secretVolume(PodSpec pod, String secret) {
        List<Volume> vs = pod.getVolumes().stream().filter(x -> x.getSecret() != null
                && secret.equals(x.getSecret().getSecretName())).toList();
        assertEquals(1, vs.size(), "one volume of Secret " + secret);
        return vs.get(0);
    }

    /** Where key {@code key} of Secret {@code secret} is in container {@code c}: mounted read-only, group-readable. */
    static String secretFile(PodSpec pod, Container c, String secret, String key) {
        Volume v = secretVolume(pod, secret);
        String mount = secretMount(pod, c, secret);
        List<KeyToPath> items = v.getSecret().getItems();
        if (items == null || items.isEmpty()) {
            return mount + "/" + key;
        }
        return mount + "/" + items.stream().filter(i -> i.getKey().equals(key)).findFirst()
                .orElseThrow(() -> new AssertionError(secret + ": " + key + " is not projected")).getPath();
    }

    /** A port given by name or number, as the container's port number. */
    static int port(Container c, IntOrString p) {
        return p.getStrVal() != null ? containerPort(c, p.getStrVal()) : p.getIntVal();
    }

    static int containerPort(Container c, String name) {
        return c.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + ": no port named " + name)).getContainerPort();
    }

    static List<Container> containers(PodSpec pod) {
        List<Container> all = new ArrayList<>(pod.getInitContainers());
        all.addAll(pod.getContainers());
        return all;
    }

    static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst().orElse(null);
    }

    static Optional<VolumeMount> mountAt(Container c, String path) {
        return c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path)).findFirst();
    }

    static <T> T first(T a, T b) {
        return a != null ? a : b;
    }

    static io.fabric8.kubernetes.api.model.ObjectMeta meta(Object o) {
        if (o instanceof HasMetadata h) {
            return h.getMetadata();
        }
        if (o instanceof ScaledObject s) {
            return s.metadata();
        }
        if (o instanceof TriggerAuthentication t) {
            return t.metadata();
        }
        if (o instanceof KafkaTopic t) {
            return t.metadata();
        }
        if (o instanceof Certificate c) {
            return c.metadata();
        }
        if (o instanceof Issuer i) {
            return i.metadata();
        }
        throw new AssertionError("no metadata: " + o);
    }

    static void copyTree(Path from, Path to) throws IOException {
        if (Files.exists(to)) {
            try (Stream<Path> old = Files.walk(to)) {
                for (Path p : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest);
                }
            }
        }
    }

    /** Switches on an overlay's commented-out "components:" line and those of {@code components}, as written there. */
    static Path withComponents(Path overlay, String... components) throws IOException {
        Path k = overlay.resolve("kustomization.yaml");
        String text = Files.readString(k);
        assertTrue(text.contains("\n# components:\n"), overlay + ": a commented components: line");
        text = text.replace("\n# components:\n", "\ncomponents:\n");
        for (String c : components) {
            String line = "#   - ../../components/" + c + "\n";
            assertTrue(text.contains(line), overlay + " names the " + c + " component in a comment");
            text = text.replace(line, "  - ../../components/" + c + "\n");
        }
        Files.writeString(k, text);
        return overlay;
    }
}
