package io.unclip.engine;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/** The engine's packages form layers (tensor below diffusion below stage below pipeline): no package cycle. */
class PackageCyclesTest {

    @Test
    void enginePackagesAreFreeOfCycles() {
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.unclip.engine");
        slices().matching("io.unclip.engine.(*)..").should().beFreeOfCycles().check(classes);
    }
}
