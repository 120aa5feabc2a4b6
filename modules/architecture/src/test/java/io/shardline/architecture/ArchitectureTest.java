package io.shardline.architecture;

import static io.shardline.architecture.ArchitectureRules.CYCLES_NOT_YET_COVERED;
import static io.shardline.architecture.ArchitectureRules.ROOT_PACKAGE;
import static io.shardline.architecture.ArchitectureRules.SIGNATURES_NOT_YET_COVERED;
import static io.shardline.architecture.ProductionClasses.inModule;

import org.junit.jupiter.api.Test;

/** The architecture rules over the production classes of every module. */
class ArchitectureTest {

    @Test
    void packagesHaveNoCycles() {
        ArchitectureRules.noPackageCycles(ROOT_PACKAGE, CYCLES_NOT_YET_COVERED).check(ProductionClasses.all());
    }

    @Test
    void noInternalTypeAppearsInAPublicSignatureOutsideItsPackage() {
        ArchitectureRules.noInternalTypeInPublicSignatures(ROOT_PACKAGE, SIGNATURES_NOT_YET_COVERED).check(ProductionClasses.all());
    }

    @Test
    void topologyNeverUsesTheMongoDbDriver() {
        ArchitectureRules.neverUseTheMongoDbDriver(inModule("topology")).check(ProductionClasses.all());
    }

    @Test
    void onlyTheCliModuleUsesPicocli() {
        ArchitectureRules.onlyTheseUsePicocli(inModule("modules/cli")).check(ProductionClasses.all());
    }
}
