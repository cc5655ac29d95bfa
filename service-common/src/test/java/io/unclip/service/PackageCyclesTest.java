package io.unclip.service;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * service-common's packages form layers: validate and record at the bottom, codec and stage over them, kafka over
 * those, the root package (runtime wiring: gRPC errors, readiness, worker start-up) on top. A cycle between them is
 * a build failure, not a review comment.
 */
class PackageCyclesTest {

    static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.unclip.service");

    @Test
    void subpackagesAreFreeOfCycles() {
        slices().matching("io.unclip.service.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void subpackagesDoNotReachUpIntoTheRuntimeWiring() {
        noClasses().that().resideInAPackage("io.unclip.service.(*)..")
                .should().dependOnClassesThat().resideInAPackage("io.unclip.service")
                .check(CLASSES);
    }
}
