package org.backhippain.cds.cql;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The {@code content} module's source tree, read from the build's class path as listed by {@code
 * content/index.txt}: what {@link PackageBuilder} packages. Everything that runs reads the package
 * ({@link ContentPackage#load}) instead.
 */
final class ContentSources {
  private static final String SOURCES = "content/";

  private ContentSources() {}

  /**
   * Loads the content module's source tree from the class path, as listed by {@code
   * content/index.txt}. For the build (the build (content-build's {@code PackageBuilder}));
   * everything else uses {@link #load}.
   */
  static ContentPackage read(FhirContext fhir) {
    ClassLoader loader = ContentSources.class.getClassLoader();
    var parser = fhir.newJsonParser();
    Map<String, String> files = new TreeMap<>();
    List<IBaseResource> resources = new ArrayList<>();
    List<ContentPackage.CqlSource> cql = new ArrayList<>();
    for (String line : read(loader, SOURCES + "index.txt").split("\\R")) {
      String path = line.strip();
      if (path.isEmpty()) {
        continue;
      }
      String text = read(loader, SOURCES + path);
      if (path.startsWith("cql/") && path.endsWith(".cql")) {
        cql.add(ContentPackage.CqlSource.of("content/input/" + path, text));
      } else if (path.startsWith("vocabulary/") || path.startsWith("resources/")) {
        if (path.endsWith(".json")) {
          resources.add(parser.parseResource(text));
        }
      } else {
        files.put(path, text);
      }
    }
    return new ContentPackage(
        files, resources, cql, Map.of(), Map.of(), ContentPackage.CANONICAL_BASE);
  }

  private static String read(ClassLoader loader, String name) {
    try (InputStream in = loader.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("content file missing from the class path: " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
