package org.backhippain.cds.terminology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Writes {@code sources/synthea-3.3.0-modules.json}: every RxNorm code the generic modules of a
 * Synthea jar can emit (codes of {@code "system": "RxNorm"} in {@code modules/**}/*.json), with the
 * display and the modules. Usage: {@code SyntheaModules <synthea-3.3.0.jar> <out.json>}; the jar is
 * Maven Central's {@code org.mitre.synthea:synthea:3.3.0} (benchmarks/synthea/pom.xml resolves it).
 */
public final class SyntheaModules {
  private SyntheaModules() {}

  public static void main(String[] args) throws IOException, NoSuchAlgorithmException {
    Path jar = Path.of(args[0]);
    Path out = Path.of(args[1]);
    ObjectMapper json = new ObjectMapper();
    Map<String, String> display = new TreeMap<>();
    Map<String, TreeSet<String>> modules = new TreeMap<>();
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      for (ZipEntry e :
          zip.stream().sorted(java.util.Comparator.comparing(ZipEntry::getName)).toList()) {
        if (!e.getName().startsWith("modules/") || !e.getName().endsWith(".json")) {
          continue;
        }
        try (InputStream in = zip.getInputStream(e)) {
          walk(json.readTree(in), e.getName().substring("modules/".length()), display, modules);
        }
      }
    }
    ObjectNode root = json.createObjectNode();
    root.put("concept", "RxNorm codes Synthea 3.3.0's modules can emit");
    root.put("source_repo", "Maven Central org.mitre.synthea:synthea:3.3.0");
    root.put("source_path", jar.getFileName() + "!/modules/**/*.json");
    root.put("source_commit", "jar sha256 " + sha256(jar));
    root.putNull("source_url_or_oid");
    root.put("expansion_version_or_date", "Synthea 3.3.0 (modules, not a value set)");
    root.putNull("derivation");
    root.put(
        "notes",
        "Every object with system RxNorm and a code in the jar's module files; display as the first"
            + " module (in path order) states it. Written by SyntheaModules.");
    ArrayNode codes = root.putArray("codes");
    display.forEach(
        (code, name) -> {
          ObjectNode c = codes.addObject();
          c.put("system", Sources.RXNORM);
          c.put("code", code);
          c.put("display", name);
          ArrayNode m = c.putArray("modules");
          modules.get(code).forEach(m::add);
        });
    root.putObject("counts_by_system").put(Sources.RXNORM, display.size());
    Files.writeString(out, json.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    System.out.printf("%d RxNorm codes from %s written to %s%n", display.size(), jar, out);
  }

  private static void walk(
      JsonNode node,
      String module,
      Map<String, String> display,
      Map<String, TreeSet<String>> mods) {
    if (node.isObject()) {
      String system = node.path("system").asText();
      if (("RxNorm".equals(system) || Sources.RXNORM.equals(system)) && node.has("code")) {
        String code = node.path("code").asText();
        display.putIfAbsent(code, node.path("display").asText());
        mods.computeIfAbsent(code, k -> new TreeSet<>()).add(module);
      }
      node.elements().forEachRemaining(child -> walk(child, module, display, mods));
    } else if (node.isArray()) {
      node.elements().forEachRemaining(child -> walk(child, module, display, mods));
    }
  }

  private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
