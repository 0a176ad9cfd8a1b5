// Locates the repository's deployment files (k8s/, conf/, docs/, the parent pom) from a test
// running in the jobs module, and reads the versions the parent pom pins. Test helper only.
package org.ringtrain.jobs.k8s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** Paths and pom versions of the ringtrain checkout the tests run in. */
public final class RepoFiles {

  private RepoFiles() {
  }

  /** The repository root: the nearest ancestor of the working directory holding k8s/ and a pom.xml. */
  public static Path root() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("k8s")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no ringtrain checkout (a directory with k8s/ and pom.xml) above "
        + Path.of("").toAbsolutePath() + "; run the tests from the repository or its jobs/ module");
  }

  /** A file or directory relative to the repository root. */
  public static Path file(String relative) {
    return root().resolve(relative);
  }

  /** Every SparkApplication manifest under k8s/sparkapplication/, sorted. */
  public static List<Path> manifests() throws IOException {
    try (Stream<Path> files = Files.list(file("k8s/sparkapplication"))) {
      return files.filter(p -> p.getFileName().toString().endsWith(".yaml")).sorted().toList();
    }
  }

  /** A property of the parent pom's {@code <properties>}, e.g. spark.version. */
  public static String pomProperty(String name) {
    Element properties = (Element) parentPom().getDocumentElement().getElementsByTagName("properties").item(0);
    NodeList values = properties.getElementsByTagName(name);
    if (values.getLength() == 0) {
      throw new IllegalStateException("pom.xml has no <" + name + "> property");
    }
    return values.item(0).getTextContent().trim();
  }

  /** The parent pom's project version, e.g. 0.1.0-SNAPSHOT. */
  public static String projectVersion() {
    NodeList children = parentPom().getDocumentElement().getChildNodes();
    for (int i = 0; i < children.getLength(); i++) {
      if ("version".equals(children.item(i).getNodeName())) {
        return children.item(i).getTextContent().trim();
      }
    }
    throw new IllegalStateException("pom.xml has no <version>");
  }

  private static Document parentPom() {
    try {
      DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      return factory.newDocumentBuilder().parse(file("pom.xml").toFile());
    } catch (Exception e) {
      throw new IllegalStateException("cannot read " + file("pom.xml") + ": " + e.getMessage(), e);
    }
  }
}
