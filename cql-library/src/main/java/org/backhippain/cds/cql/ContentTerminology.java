package org.backhippain.cds.cql;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.r4.model.ValueSet.ConceptSetComponent;
import org.hl7.fhir.r4.model.ValueSet.ValueSetExpansionContainsComponent;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.terminology.CodeSystemInfo;
import org.opencds.cqf.cql.engine.terminology.TerminologyProvider;
import org.opencds.cqf.cql.engine.terminology.ValueSetInfo;

/**
 * Value-set membership as the rules see it, read from the content's ValueSets (no terminology
 * server: VSAC cannot be reached, so the content ships complete expansions, written by the
 * terminology build). A code is a member when the set's expansion lists it, or, for ICD-10-CM, when
 * it descends from one of the compose's {@code is-a} roots and from none of its excluded roots
 * (clinical spec §4: a listed category contains its descendants): codes newer than the shipped
 * table, and retired ones in old data, still match. ICD-10-CM codes match with or without the dot.
 * Immutable after construction, so one instance serves every request.
 */
public final class ContentTerminology implements TerminologyProvider {
  public static final String ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm";

  private final Map<String, Members> byUrl = new HashMap<>();

  ContentTerminology(List<ValueSet> valueSets) {
    Map<String, ValueSet> definitions = new HashMap<>();
    for (ValueSet vs : valueSets) {
      definitions.put(vs.getUrl(), vs);
    }
    for (ValueSet vs : valueSets) {
      byUrl.put(vs.getUrl(), members(vs, definitions, new HashSet<>()));
    }
  }

  public ContentTerminology(ContentPackage content) {
    this(content.valueSets());
  }

  boolean knows(String url) {
    return byUrl.containsKey(url);
  }

  /** True when system|code is a member of the value set with this canonical URL. */
  public boolean contains(String url, String system, String code) {
    Members members = byUrl.get(url);
    if (members == null) {
      throw new IllegalArgumentException("unknown value set " + url);
    }
    return system != null && code != null && members.contains(system, code);
  }

  @Override
  public boolean in(Code code, ValueSetInfo valueSet) {
    return contains(valueSet.getId(), code.getSystem(), code.getCode());
  }

  @Override
  public Iterable<Code> expand(ValueSetInfo valueSet) {
    Members members = byUrl.get(valueSet.getId());
    if (members == null) {
      throw new IllegalArgumentException("unknown value set " + valueSet.getId());
    }
    return members.codes;
  }

  @Override
  public Code lookup(Code code, CodeSystemInfo codeSystem) {
    return null;
  }

  private static Members members(
      ValueSet vs, Map<String, ValueSet> definitions, Set<String> visiting) {
    if (!visiting.add(vs.getUrl())) {
      throw new IllegalStateException("value set includes itself: " + vs.getUrl());
    }
    if (!vs.hasExpansion() || vs.getExpansion().getContains().isEmpty()) {
      throw new IllegalStateException(
          "value set without expansion: " + vs.getUrl() + " (run the terminology build)");
    }
    Members members = new Members();
    addContains(vs.getExpansion().getContains(), members);
    for (ConceptSetComponent include : vs.getCompose().getInclude()) {
      for (var canonical : include.getValueSet()) {
        ValueSet other = definitions.get(canonical.getValue());
        if (other == null) {
          throw new IllegalStateException("included value set not in content: " + canonical);
        }
        members.nested.add(members(other, definitions, visiting));
      }
      members.roots.addAll(isARoots(include, vs.getUrl()));
    }
    for (ConceptSetComponent exclude : vs.getCompose().getExclude()) {
      members.excludedRoots.addAll(isARoots(exclude, vs.getUrl()));
      if (ICD10CM.equals(exclude.getSystem())) {
        exclude.getConcept().forEach(c -> members.excludedCodes.add(undotted(c.getCode())));
      }
    }
    visiting.remove(vs.getUrl());
    return members;
  }

  private static void addContains(List<ValueSetExpansionContainsComponent> contains, Members m) {
    for (ValueSetExpansionContainsComponent c : contains) {
      if (c.hasCode()) {
        m.exact.add(normalize(c.getSystem(), c.getCode()));
        m.codes.add(new Code().withSystem(c.getSystem()).withCode(c.getCode()));
      }
      addContains(c.getContains(), m);
    }
  }

  /**
   * The undotted ICD-10-CM {@code is-a} roots of an include; no other filter is read at run time.
   */
  private static List<String> isARoots(ConceptSetComponent set, String url) {
    List<String> roots = new ArrayList<>();
    for (var filter : set.getFilter()) {
      if (!ICD10CM.equals(set.getSystem())
          || !"concept".equals(filter.getProperty())
          || filter.getOp() != ValueSet.FilterOperator.ISA) {
        throw new IllegalStateException(
            url
                + ": only ICD-10-CM 'concept is-a' filters are read at run time, not "
                + set.getSystem()
                + " "
                + filter.getProperty()
                + " "
                + filter.getOp());
      }
      roots.add(undotted(filter.getValue()));
    }
    return roots;
  }

  static String normalize(String system, String code) {
    String c = code.strip();
    if (ICD10CM.equals(system)) {
      c = undotted(c);
    }
    return system + "|" + c;
  }

  private static String undotted(String code) {
    return code.strip().replace(".", "").toUpperCase(Locale.ROOT);
  }

  private static final class Members {
    final Set<String> exact = new HashSet<>();
    final List<Code> codes = new ArrayList<>();
    final List<String> roots = new ArrayList<>();
    final List<String> excludedRoots = new ArrayList<>();
    final Set<String> excludedCodes = new HashSet<>();
    final List<Members> nested = new ArrayList<>();

    boolean contains(String system, String code) {
      return exact.contains(normalize(system, code))
          || (ICD10CM.equals(system) && hierarchical(undotted(code)));
    }

    /** Below an is-a root of this set or of a set it includes, and not excluded here. */
    private boolean hierarchical(String code) {
      if (excludedCodes.contains(code) || startsWithAny(code, excludedRoots)) {
        return false;
      }
      if (startsWithAny(code, roots)) {
        return true;
      }
      for (Members m : nested) {
        if (m.hierarchical(code)) {
          return true;
        }
      }
      return false;
    }

    private static boolean startsWithAny(String code, List<String> prefixes) {
      for (String prefix : prefixes) {
        if (code.startsWith(prefix)) {
          return true;
        }
      }
      return false;
    }
  }
}
