package io.shardline.architecture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.Source;
import com.tngtech.archunit.core.importer.ClassFileImporter;

/**
 * The production classes of every module of the build, read from each module's {@code target/classes}.
 *
 * <p>The modules are the ones the parent POM lists, so a new module is covered as soon as it joins the build.
 * Class directories are read rather than the test class path because the cli and bench artifacts are shaded
 * jars that carry every other module's classes too; reading directories also tells which module a class
 * comes from, which the module rules need.
 */
final class ProductionClasses {

    /** This module: tests only, nothing of its own to check. */
    private static final String THIS_MODULE = "modules/architecture";

    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    private static JavaClasses classes;
    private static Map<String, URI> classDirectories;

    private ProductionClasses() {
    }

    /** All production classes of all modules, imported once per test JVM. */
    static synchronized JavaClasses all() {
        if (classes == null) {
            List<Path> directories = new ArrayList<>(directories().values().stream().map(Path::of).toList());
            classes = new ClassFileImporter().importPaths(directories);
        }
        return classes;
    }

    /** Classes compiled from the given module, named by its directory as in the parent POM ({@code topology}). */
    static DescribedPredicate<JavaClass> inModule(String module) {
        URI directory = directories().get(module);
        if (directory == null) {
            throw new IllegalArgumentException("no module with production classes at " + module + ": " + directories().keySet());
        }
        return DescribedPredicate.describe("in module " + module,
            javaClass -> javaClass.getSource().map(Source::getUri).map(uri -> uri.toString().startsWith(directory.toString())).orElse(false));
    }

    /** The modules with production classes, each with the URI of its class directory. */
    static synchronized Map<String, URI> directories() {
        if (classDirectories == null) {
            Map<String, URI> found = new LinkedHashMap<>();
            for (String module : modulesOfTheBuild()) {
                if (module.equals(THIS_MODULE) || !Files.isDirectory(ROOT.resolve(module).resolve("src/main/java"))) {
                    continue;
                }
                Path directory = ROOT.resolve(module).resolve("target/classes");
                if (!containsClasses(directory)) {
                    throw new IllegalStateException("module " + module + " has sources but no classes in " + directory
                        + ": build it before the architecture rules (mvn verify from the repository root does)");
                }
                found.put(module, directory.toUri());
            }
            classDirectories = Map.copyOf(found);
        }
        return classDirectories;
    }

    private static List<String> modulesOfTheBuild() {
        Path pom = ROOT.resolve("pom.xml");
        try {
            NodeList nodes = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile()).getElementsByTagName("module");
            List<String> modules = new ArrayList<>();
            for (int i = 0; i < nodes.getLength(); i++) {
                modules.add(nodes.item(i).getTextContent().trim());
            }
            if (!modules.contains(THIS_MODULE)) {
                throw new IllegalStateException(pom + " does not list " + THIS_MODULE + ": the tests must run from its directory");
            }
            return modules;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ParserConfigurationException | SAXException e) {
            throw new IllegalStateException("cannot read the modules of " + pom, e);
        }
    }

    private static boolean containsClasses(Path directory) {
        if (!Files.isDirectory(directory)) {
            return false;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            return files.anyMatch(file -> file.toString().endsWith(".class"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
