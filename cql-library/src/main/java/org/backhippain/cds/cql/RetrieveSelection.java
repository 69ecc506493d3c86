package org.backhippain.cds.cql;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backhippain.cds.fhir.ResourceSelection;
import org.hl7.fhir.r4.model.DataRequirement;
import org.hl7.fhir.r4.model.DataRequirement.DataRequirementCodeFilterComponent;

/**
 * Which resources some retrieve of some rule can match, from the package's data requirements (the
 * build computes them from the ELM): a type retrieved without a code filter, or with one on another
 * element than {@code code} (a MedicationRequest by its medication), is read whole; otherwise a
 * resource is read when a coding of its {@code code} is one of a filter's codes or in a filter's
 * value set, by the same membership the retrieves use ({@link ContentTerminology}: the expansion,
 * ICD-10-CM by hierarchy). A type no library retrieves is never read.
 */
public final class RetrieveSelection implements ResourceSelection {
  private static final String CODE = "code";

  private final ContentTerminology terminology;
  private final Set<String> whole = new HashSet<>();
  private final Map<String, Filters> filtered = new HashMap<>();

  /** One type's code filters: value set URLs, {@code system|code} pairs and system-less codes. */
  private record Filters(Set<String> valueSets, Set<String> codes, Set<String> bareCodes) {}

  private RetrieveSelection(ContentTerminology terminology) {
    this.terminology = terminology;
  }

  /** The selection of every library's data requirements in {@code content}. */
  static RetrieveSelection of(ContentPackage content, ContentTerminology terminology) {
    return of(
        content.dataRequirements().values().stream().flatMap(List::stream).toList(), terminology);
  }

  static RetrieveSelection of(List<DataRequirement> requirements, ContentTerminology terminology) {
    RetrieveSelection selection = new RetrieveSelection(terminology);
    for (DataRequirement requirement : requirements) {
      String type = requirement.getType();
      List<DataRequirementCodeFilterComponent> filters = requirement.getCodeFilter();
      boolean byCode =
          !filters.isEmpty()
              && filters.stream()
                  .allMatch(f -> CODE.equals(f.getPath()) && (f.hasValueSet() || f.hasCode()));
      if (!byCode) {
        selection.whole.add(type);
        continue;
      }
      Filters f =
          selection.filtered.computeIfAbsent(
              type,
              t -> new Filters(new LinkedHashSet<>(), new LinkedHashSet<>(), new HashSet<>()));
      for (DataRequirementCodeFilterComponent filter : filters) {
        if (filter.hasValueSet()) {
          f.valueSets().add(filter.getValueSet());
        }
        filter
            .getCode()
            .forEach(
                c -> {
                  if (c.hasSystem()) {
                    f.codes().add(c.getSystem() + "|" + c.getCode());
                  } else {
                    f.bareCodes().add(c.getCode());
                  }
                });
      }
    }
    selection.filtered.keySet().removeAll(selection.whole);
    return selection;
  }

  @Override
  public boolean readsEvery(String resourceType) {
    return whole.contains(resourceType);
  }

  @Override
  public boolean reads(String resourceType, String system, String code) {
    if (whole.contains(resourceType)) {
      return true;
    }
    Filters f = filtered.get(resourceType);
    if (f == null) {
      return false;
    }
    if (system == null || f.bareCodes().contains(code)) {
      // A coding without a system is kept: the retrieve, not this selection, decides on it.
      return true;
    }
    if (f.codes().contains(system + "|" + code)) {
      return true;
    }
    for (String valueSet : f.valueSets()) {
      if (terminology.contains(valueSet, system, code)) {
        return true;
      }
    }
    return false;
  }

  /** The types read whole and the types read by code, for the start-up log. */
  @Override
  public String toString() {
    return "read whole "
        + new java.util.TreeSet<>(whole)
        + ", by code "
        + new java.util.TreeSet<>(filtered.keySet());
  }
}
