package io.shardline.architecture;

import java.util.List;

import static io.shardline.architecture.ArchitectureRules.ROOT_PACKAGE;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static io.shardline.architecture.ProductionClasses.inModule;

import org.junit.jupiter.api.Test;

/** The architecture rules over the production classes of every module. */
class ArchitectureTest {

    @Test
    void packagesHaveNoCycles() {
        ArchitectureRules.noPackageCycles(ROOT_PACKAGE, List.of()).check(ProductionClasses.all());
    }

    @Test
    void noInternalTypeAppearsInAPublicSignatureOutsideItsPackage() {
        ArchitectureRules.noInternalTypeInPublicSignatures(ROOT_PACKAGE, List.of()).check(ProductionClasses.all());
    }

    @Test
    void topologyNeverUsesTheMongoDbDriver() {
        ArchitectureRules.neverUseTheMongoDbDriver(inModule("topology")).check(ProductionClasses.all());
    }

    @Test
    void theBalancersPoliciesUseNoKafka() {
        ArchitectureRules.useNoKafka(resideInAPackage("io.shardline.topology.balancer.policy.."))
            .check(ProductionClasses.all());
    }

    @Test
    void onlyTheCliModuleUsesPicocli() {
        ArchitectureRules.onlyTheseUsePicocli(inModule("modules/cli")).check(ProductionClasses.all());
    }
}
