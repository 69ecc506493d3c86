package org.backhippain.cds.cql;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.ConceptMap;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.r4.model.ValueSet.ConceptReferenceComponent;
import org.hl7.fhir.r4.model.ValueSet.ConceptSetComponent;
import org.hl7.fhir.r4.model.ValueSet.ConceptSetFilterComponent;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.terminology.CodeSystemInfo;
import org.opencds.cqf.cql.engine.terminology.TerminologyProvider;
import org.opencds.cqf.cql.engine.terminology.ValueSetInfo;

/**
 * Value-set membership from the content's ValueSet definitions (no terminology server: VSAC cannot
 * be reached, so the content ships its expansions). Supports enumerated concepts, {@code
 * include.valueSet} (union), {@code exclude}, and for ICD-10-CM the {@code is-a} filter by
 * hierarchy: category {@code C50} contains {@code C50.911}; codes match with or without the dot.
 * For RxNorm, the filters {@code ingredient in ...} and {@code dose-form-class in ...} read the
 * content's product table (ConceptMap): a product belongs when its ingredient (or dose-form class)
 * is listed; an ingredient code belongs to its own ingredient filter. Immutable after construction,
 * so one instance serves every request.
 */
final class ContentTerminology implements TerminologyProvider {
  static final String ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm";
  static final String RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm";
  static final String INGREDIENT = "ingredient";

  private final Map<String, Members> byUrl = new HashMap<>();

  ContentTerminology(List<ValueSet> valueSets, List<ConceptMap> productTables) {
    Map<String, ValueSet> definitions = new HashMap<>();
    for (ValueSet vs : valueSets) {
      definitions.put(vs.getUrl(), vs);
    }
    Map<String, Map<String, Set<String>>> properties = productProperties(productTables);
    for (ValueSet vs : valueSets) {
      byUrl.put(vs.getUrl(), members(vs, definitions, properties, new HashSet<>()));
    }
  }

  ContentTerminology(ContentPackage content) {
    this(content.valueSets(), content.conceptMaps());
  }

  /**
   * Product properties from the RxNorm product tables: property name (the target system's last path
   * segment, or {@code ingredient} when the target is RxNorm) → value → product codes.
   */
  private static Map<String, Map<String, Set<String>>> productProperties(List<ConceptMap> maps) {
    Map<String, Map<String, Set<String>>> properties = new HashMap<>();
    for (ConceptMap map : maps) {
      for (ConceptMap.ConceptMapGroupComponent group : map.getGroup()) {
        if (!RXNORM.equals(group.getSource())) {
          continue;
        }
        String target = group.getTarget();
        String property =
            RXNORM.equals(target) ? INGREDIENT : target.substring(target.lastIndexOf('/') + 1);
        for (var element : group.getElement()) {
          for (var t : element.getTarget()) {
            properties
                .computeIfAbsent(property, k -> new HashMap<>())
                .computeIfAbsent(t.getCode(), k -> new LinkedHashSet<>())
                .add(element.getCode());
          }
        }
      }
    }
    return properties;
  }

  boolean knows(String url) {
    return byUrl.containsKey(url);
  }

  /** True when system|code is a member of the value set with this canonical URL. */
  boolean contains(String url, String system, String code) {
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
    List<Code> codes = new ArrayList<>();
    for (String key : members.exact) {
      int bar = key.indexOf('|');
      codes.add(new Code().withSystem(key.substring(0, bar)).withCode(key.substring(bar + 1)));
    }
    return codes;
  }

  @Override
  public Code lookup(Code code, CodeSystemInfo codeSystem) {
    return null;
  }

  private static Members members(
      ValueSet vs,
      Map<String, ValueSet> definitions,
      Map<String, Map<String, Set<String>>> properties,
      Set<String> visiting) {
    if (!visiting.add(vs.getUrl())) {
      throw new IllegalStateException("value set includes itself: " + vs.getUrl());
    }
    Members members = new Members();
    for (ConceptSetComponent include : vs.getCompose().getInclude()) {
      members.add(include, definitions, properties, visiting, false);
    }
    for (ConceptSetComponent exclude : vs.getCompose().getExclude()) {
      members.add(exclude, definitions, properties, visiting, true);
    }
    visiting.remove(vs.getUrl());
    return members;
  }

  static String normalize(String system, String code) {
    String c = code.strip();
    if (ICD10CM.equals(system)) {
      c = c.replace(".", "").toUpperCase(Locale.ROOT);
    }
    return system + "|" + c;
  }

  private static final class Members {
    final Set<String> exact = new LinkedHashSet<>();
    final Set<String> excluded = new HashSet<>();
    final List<String> prefixes = new ArrayList<>();
    final List<String> excludedPrefixes = new ArrayList<>();

    void add(
        ConceptSetComponent set,
        Map<String, ValueSet> definitions,
        Map<String, Map<String, Set<String>>> properties,
        Set<String> visiting,
        boolean exclude) {
      for (var canonical : set.getValueSet()) {
        ValueSet other = definitions.get(canonical.getValue());
        if (other == null) {
          throw new IllegalStateException("included value set not in content: " + canonical);
        }
        Members nested = members(other, definitions, properties, visiting);
        if (exclude) {
          excluded.addAll(nested.exact);
          excludedPrefixes.addAll(nested.prefixes);
        } else {
          exact.addAll(nested.exact);
          prefixes.addAll(nested.prefixes);
          excluded.addAll(nested.excluded);
          excludedPrefixes.addAll(nested.excludedPrefixes);
        }
      }
      String system = set.getSystem();
      for (ConceptReferenceComponent concept : set.getConcept()) {
        (exclude ? excluded : exact).add(normalize(system, concept.getCode()));
      }
      for (ConceptSetFilterComponent filter : set.getFilter()) {
        if (RXNORM.equals(system) && filter.getOp() == ValueSet.FilterOperator.IN) {
          Map<String, Set<String>> byValue = properties.get(filter.getProperty());
          if (byValue == null) {
            throw new IllegalStateException(
                "no product table for RxNorm filter " + filter.getProperty());
          }
          for (String value : filter.getValue().split(",")) {
            String v = value.strip();
            if (INGREDIENT.equals(filter.getProperty())) {
              (exclude ? excluded : exact).add(normalize(system, v));
            }
            for (String product : byValue.getOrDefault(v, Set.of())) {
              (exclude ? excluded : exact).add(normalize(system, product));
            }
          }
          continue;
        }
        if (!ICD10CM.equals(system)
            || !"concept".equals(filter.getProperty())
            || filter.getOp() != ValueSet.FilterOperator.ISA) {
          throw new IllegalStateException(
              "only ICD-10-CM 'concept is-a' filters are supported, not "
                  + system
                  + " "
                  + filter.getProperty()
                  + " "
                  + filter.getOp());
        }
        (exclude ? excludedPrefixes : prefixes).add(normalize(system, filter.getValue()));
      }
    }

    boolean contains(String system, String code) {
      String key = normalize(system, code);
      if (excluded.contains(key) || startsWithAny(key, excludedPrefixes)) {
        return false;
      }
      return exact.contains(key) || startsWithAny(key, prefixes);
    }

    private static boolean startsWithAny(String key, List<String> prefixes) {
      for (String prefix : prefixes) {
        if (key.startsWith(prefix)) {
          return true;
        }
      }
      return false;
    }
  }
}
