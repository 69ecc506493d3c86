package org.backhippain.cds.cql;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.Resource;
import org.opencds.cqf.cql.engine.runtime.BaseTemporal;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.runtime.Concept;
import org.opencds.cqf.cql.engine.runtime.Interval;
import org.opencds.cqf.cql.engine.runtime.Quantity;
import org.opencds.cqf.cql.engine.runtime.Tuple;

/**
 * Converts CQL results into plain Java values (String, Integer, Boolean, BigDecimal, List, Map)
 * that a text template can print: dates as ISO text, tuples as maps, resources as references.
 */
final class CqlValues {
  private CqlValues() {}

  static Object plain(Object value) {
    if (value == null
        || value instanceof String
        || value instanceof Boolean
        || value instanceof Integer
        || value instanceof Long) {
      return value;
    }
    if (value instanceof BigDecimal decimal) {
      return decimal.stripTrailingZeros().toPlainString();
    }
    if (value instanceof BaseTemporal temporal) {
      return temporal.toString();
    }
    if (value instanceof Tuple tuple) {
      Map<String, Object> map = new LinkedHashMap<>();
      tuple.getElements().forEach((k, v) -> map.put(k, plain(v)));
      return map;
    }
    if (value instanceof Iterable<?> many) {
      List<Object> list = new ArrayList<>();
      for (Object each : many) {
        list.add(plain(each));
      }
      return list;
    }
    if (value instanceof Code code) {
      return code.getDisplay() != null ? code.getDisplay() : code.getCode();
    }
    if (value instanceof Concept concept) {
      return concept.getDisplay() != null ? concept.getDisplay() : plain(concept.getCodes());
    }
    if (value instanceof Quantity quantity) {
      return plain(quantity.getValue()) + " " + quantity.getUnit();
    }
    if (value instanceof Interval interval) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("low", plain(interval.getLow()));
      map.put("high", plain(interval.getHigh()));
      return map;
    }
    if (value instanceof Resource resource) {
      return resource.fhirType() + "/" + resource.getIdElement().getIdPart();
    }
    if (value instanceof IPrimitiveType<?> primitive) {
      return primitive.getValueAsString();
    }
    return value.toString();
  }
}
