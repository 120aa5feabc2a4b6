package io.shardline.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaMember;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.library.dependencies.SliceRule;

/**
 * The architecture rules, as factories over a root package or a choice of classes so that the same rule runs
 * against the production classes ({@link ArchitectureTest}) and against fixtures that break it
 * ({@link ArchitectureRulesFailTest}).
 */
final class ArchitectureRules {

    /** Every Shardline class lives under this package. */
    static final String ROOT_PACKAGE = "io.shardline";

    private ArchitectureRules() {
    }

    /**
     * No cycle between the packages under {@code rootPackage}, each package one slice, except cycles that stay
     * inside one of the {@code notCovered} trees.
     */
    static SliceRule noPackageCycles(String rootPackage, Collection<String> notCovered) {
        SliceRule rule = slices().matching(rootPackage + ".(**)")
            .namingSlices("package " + rootPackage + ".$1")
            .as("packages under " + rootPackage + (notCovered.isEmpty() ? "" : " (except cycles inside " + notCovered + ")"))
            .should().beFreeOfCycles()
            .because("a package is then read, tested and changed without the packages that use it");
        for (String tree : notCovered) {
            rule = rule.ignoreDependency(resideInAPackage(tree + ".."), resideInAPackage(tree + ".."));
        }
        return rule;
    }

    /**
     * No type of a package named {@code internal} under {@code rootPackage} appears in the public signature of a
     * class outside such a package: supertypes, public and protected fields, methods and constructors, with
     * their type arguments, bounds and thrown exceptions. Members named in {@code membersNotCovered}
     * ({@code class.method}) are not checked.
     */
    static ArchRule noInternalTypeInPublicSignatures(String rootPackage, Collection<String> membersNotCovered) {
        DescribedPredicate<JavaClass> internal = resideInAPackage(rootPackage + "..internal..");
        return classes().that().resideInAPackage(rootPackage + "..")
            .and(DescribedPredicate.not(internal))
            .and(exposed())
            .should(exposeNoTypeThat(internal, Set.copyOf(membersNotCovered)))
            .because("an internal package may change without its callers noticing only if nothing outside it names its types");
    }

    /** The classes chosen do not use the MongoDB driver. */
    static ArchRule neverUseTheMongoDbDriver(DescribedPredicate<JavaClass> chosen) {
        return noClasses().that(chosen)
            .should().dependOnClassesThat().resideInAPackage("com.mongodb..")
            .because("topologies decide from what is on topics; they never talk to a database themselves");
    }

    /** The classes chosen use no Kafka type: decisions that can be tested without a topology. */
    static ArchRule useNoKafka(DescribedPredicate<JavaClass> chosen) {
        return noClasses().that(chosen)
            .should().dependOnClassesThat().resideInAPackage("org.apache.kafka..")
            .because("the balancer's policies are plain decisions over a snapshot, tested without Kafka Streams");
    }

    /** Only the classes chosen use picocli. */
    static ArchRule onlyTheseUsePicocli(DescribedPredicate<JavaClass> allowed) {
        return noClasses().that(DescribedPredicate.not(allowed))
            .should().dependOnClassesThat().resideInAPackage("picocli..")
            .because("command lines are parsed in the cli module; the roles it starts take their settings as values");
    }

    /** Public (or protected) top-level or member classes whose enclosing classes are public as well. */
    private static DescribedPredicate<JavaClass> exposed() {
        return DescribedPredicate.describe("are reachable from another package", ArchitectureRules::isExposed);
    }

    private static boolean isExposed(JavaClass javaClass) {
        if (javaClass.isAnonymousClass() || javaClass.isLocalClass() || !isVisibleOutside(javaClass.getModifiers())) {
            return false;
        }
        return javaClass.getEnclosingClass().map(ArchitectureRules::isExposed).orElse(true);
    }

    private static boolean isVisibleOutside(Set<JavaModifier> modifiers) {
        return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
    }

    private static ArchCondition<JavaClass> exposeNoTypeThat(DescribedPredicate<JavaClass> forbidden, Set<String> membersNotCovered) {
        return new ArchCondition<>("name no " + forbidden.getDescription() + " type in a public signature") {
            @Override
            public void check(JavaClass javaClass, ConditionEvents events) {
                List<JavaType> supertypes = new ArrayList<>();
                javaClass.getSuperclass().ifPresent(supertypes::add);
                supertypes.addAll(javaClass.getInterfaces());
                supertypes.addAll(javaClass.getTypeParameters());
                report(javaClass, javaClass.getDescription() + " as a type it extends", supertypes, forbidden, events);
                boolean subclassable = !javaClass.getModifiers().contains(JavaModifier.FINAL);
                for (JavaMember member : javaClass.getMembers()) {
                    if (isPartOfTheSignature(member, subclassable) && !membersNotCovered.contains(javaClass.getName() + "." + member.getName())) {
                        report(javaClass, member.getDescription(), typesOf(member), forbidden, events);
                    }
                }
            }
        };
    }

    private static boolean isPartOfTheSignature(JavaMember member, boolean subclassable) {
        Set<JavaModifier> modifiers = member.getModifiers();
        if (modifiers.contains(JavaModifier.SYNTHETIC) || modifiers.contains(JavaModifier.BRIDGE)) {
            return false;
        }
        return modifiers.contains(JavaModifier.PUBLIC) || (subclassable && modifiers.contains(JavaModifier.PROTECTED));
    }

    private static List<JavaType> typesOf(JavaMember member) {
        List<JavaType> types = new ArrayList<>();
        if (member instanceof JavaField field) {
            types.add(field.getType());
        } else if (member instanceof JavaCodeUnit codeUnit) {
            types.add(codeUnit.getReturnType());
            types.addAll(codeUnit.getParameterTypes());
            types.addAll(codeUnit.getTypeParameters());
            types.addAll(codeUnit.getThrowsClause().getTypes());
        }
        return types;
    }

    private static void report(JavaClass owner, String where, List<JavaType> types, DescribedPredicate<JavaClass> forbidden,
                               ConditionEvents events) {
        Set<String> named = new TreeSet<>();
        for (JavaType type : types) {
            for (JavaClass raw : type.getAllInvolvedRawTypes()) {
                JavaClass base = raw.getBaseComponentType();
                if (forbidden.test(base)) {
                    named.add(base.getName());
                }
            }
        }
        if (!named.isEmpty()) {
            events.add(SimpleConditionEvent.violated(owner, where + " names " + String.join(", ", named)
                + " in " + owner.getSourceCodeLocation()));
        }
    }
}
