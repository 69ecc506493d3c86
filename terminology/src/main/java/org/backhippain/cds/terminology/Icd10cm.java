package org.backhippain.cds.terminology;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.CodeSystem.ConceptDefinitionComponent;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;

/**
 * The ICD-10-CM code table ({@code sources/icd10cm/icd10cm-codes.tsv.gz}: code, billable, display,
 * parent; FY2026 order file) and its FHIR CodeSystem: every code nested under its parent. Headers
 * (non-billable) are ordinary concepts there, so that expansions list them (the build marks them
 * {@code abstract}: old data carries retired headers such as M54.5). HAPI's terminology support
 * expands {@code is-a} filters against that CodeSystem.
 */
final class Icd10cm {
  static final String SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm";

  /** One row of the table. */
  record Code(String code, boolean billable, String display, String parent) {}

  private final String version;
  private final Map<String, Code> byCode;
  private final Map<String, Code> byUndotted = new HashMap<>();

  private Icd10cm(String version, Map<String, Code> byCode) {
    this.version = version;
    this.byCode = Collections.unmodifiableMap(byCode);
    byCode.values().forEach(c -> byUndotted.put(undotted(c.code()), c));
  }

  static Icd10cm load(Path gz, String version) {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
      return read(in, version);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Icd10cm read(InputStream in, String version) throws IOException {
    Map<String, Code> codes = new LinkedHashMap<>();
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    String header = reader.readLine();
    if (!"code\tbillable\tdisplay\tparent".equals(header)) {
      throw new IllegalStateException("unexpected ICD-10-CM table header: " + header);
    }
    for (String line; (line = reader.readLine()) != null; ) {
      String[] f = line.split("\t", -1);
      if (f.length != 4) {
        throw new IllegalStateException("ICD-10-CM table: 4 columns expected: " + line);
      }
      Code code = new Code(f[0], "1".equals(f[1]), f[2], f[3].isEmpty() ? null : f[3]);
      if (code.parent() != null && !codes.containsKey(code.parent())) {
        throw new IllegalStateException("ICD-10-CM table: parent after child: " + line);
      }
      codes.put(code.code(), code);
    }
    return new Icd10cm(version, codes);
  }

  String version() {
    return version;
  }

  int size() {
    return byCode.size();
  }

  /** Every code in table order. */
  List<Code> codes() {
    return List.copyOf(byCode.values());
  }

  /** The row of a code, with or without its dot; null when the table does not have it. */
  Code find(String code) {
    return byUndotted.get(undotted(code));
  }

  static String undotted(String code) {
    return code.strip().replace(".", "").toUpperCase(Locale.ROOT);
  }

  /** The code and every code below it in the hierarchy, in table order. */
  List<Code> subtree(String root) {
    String prefix = undotted(root);
    List<Code> out = new ArrayList<>();
    for (Code c : byCode.values()) {
      if (undotted(c.code()).startsWith(prefix)) {
        out.add(c);
      }
    }
    return out;
  }

  /** The table as a complete FHIR CodeSystem, concepts nested by parent. */
  CodeSystem codeSystem() {
    CodeSystem cs = new CodeSystem();
    cs.setId("icd-10-cm");
    cs.setUrl(SYSTEM);
    cs.setVersion(version);
    cs.setName("ICD10CM");
    cs.setTitle("ICD-10-CM " + version + " (CDC/NCHS order file)");
    cs.setStatus(PublicationStatus.ACTIVE);
    cs.setCaseSensitive(true);
    cs.setHierarchyMeaning(CodeSystem.CodeSystemHierarchyMeaning.ISA);
    cs.setContent(CodeSystem.CodeSystemContentMode.COMPLETE);
    Map<String, ConceptDefinitionComponent> concepts = new HashMap<>();
    for (Code c : byCode.values()) {
      ConceptDefinitionComponent concept =
          c.parent() == null ? cs.addConcept() : concepts.get(c.parent()).addConcept();
      concept.setCode(c.code()).setDisplay(c.display());
      concepts.put(c.code(), concept);
    }
    cs.setCount(byCode.size());
    return cs;
  }
}
