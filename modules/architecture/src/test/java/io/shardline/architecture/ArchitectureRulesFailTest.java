package io.shardline.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.EvaluationResult;

/** Each rule fires on the fixtures that break it (see {@code io.shardline.architecture.fixture}). */
class ArchitectureRulesFailTest {

    private static final String FIXTURE = "io.shardline.architecture.fixture";

    private static final JavaClasses FIXTURES = new ClassFileImporter().importPackages(FIXTURE);

    @Test
    void theCycleRuleFindsTheCycleBetweenTwoPackages() {
        EvaluationResult result = ArchitectureRules.noPackageCycles(FIXTURE, List.of()).evaluate(FIXTURES);

        assertThat(result.hasViolation()).isTrue();
        assertThat(result.getFailureReport().getDetails()).hasSize(1).first().asString()
            .contains("Cycle detected: package " + FIXTURE + ".cycle.alpha -> ")
            .contains("package " + FIXTURE + ".cycle.beta")
            .contains("Alpha.partner()").contains("Beta.partner()");
    }

    @Test
    void aCycleInsideATreeNotYetCoveredIsLeftOutButOneLeavingItIsNot() {
        assertThat(ArchitectureRules.noPackageCycles(FIXTURE, List.of(FIXTURE + ".cycle")).evaluate(FIXTURES).hasViolation())
            .isFalse();
        assertThat(ArchitectureRules.noPackageCycles(FIXTURE, List.of(FIXTURE + ".cycle.alpha")).evaluate(FIXTURES).hasViolation())
            .isTrue();
    }

    @Test
    void theSignatureRuleFindsInternalTypesInPublicSignaturesOnly() {
        EvaluationResult result = ArchitectureRules.noInternalTypeInPublicSignatures(FIXTURE, List.of()).evaluate(FIXTURES);

        List<String> details = result.getFailureReport().getDetails();
        assertThat(details).hasSize(2);
        assertThat(details).anySatisfy(detail -> assertThat(detail).contains("Class <" + FIXTURE + ".exposed.Api> as a type it extends")
            .contains("names " + FIXTURE + ".exposed.internal.Detail"));
        assertThat(details).anySatisfy(detail -> assertThat(detail).contains("Method <" + FIXTURE + ".exposed.Api.get()>"));
        assertThat(String.join("\n", details)).doesNotContain("seenInThisPackageOnly").doesNotContain("Helper");
    }

    @Test
    void aMemberNotYetCoveredIsLeftOut() {
        EvaluationResult result = ArchitectureRules.noInternalTypeInPublicSignatures(FIXTURE, List.of(FIXTURE + ".exposed.Api.get"))
            .evaluate(FIXTURES);

        assertThat(result.getFailureReport().getDetails()).hasSize(1).first().asString().contains("as a type it extends");
    }

    @Test
    void theDatabaseRuleFindsTheMongoDbDriver() {
        EvaluationResult result = ArchitectureRules.neverUseTheMongoDbDriver(resideInAPackage(FIXTURE + ".database"))
            .evaluate(FIXTURES);

        assertThat(result.hasViolation()).isTrue();
        assertThat(String.join("\n", result.getFailureReport().getDetails())).contains("Reader.count(com.mongodb.client.MongoClient)");
    }

    @Test
    void theKafkaRuleFindsAKafkaType() {
        EvaluationResult result = ArchitectureRules.useNoKafka(resideInAPackage(FIXTURE + ".streams")).evaluate(FIXTURES);

        assertThat(result.hasViolation()).isTrue();
        assertThat(String.join("\n", result.getFailureReport().getDetails())).contains("org.apache.kafka.streams.KeyValue");
    }

    @Test
    void thePicocliRuleFindsPicocliOutsideTheClassesAllowed() {
        EvaluationResult outside = ArchitectureRules.onlyTheseUsePicocli(resideInAPackage(FIXTURE + ".database")).evaluate(FIXTURES);
        EvaluationResult allowed = ArchitectureRules.onlyTheseUsePicocli(resideInAPackage(FIXTURE + ".options")).evaluate(FIXTURES);

        assertThat(outside.hasViolation()).isTrue();
        assertThat(String.join("\n", outside.getFailureReport().getDetails())).contains("Options.name").contains("picocli.CommandLine$Option");
        assertThat(allowed.hasViolation()).isFalse();
    }
}
