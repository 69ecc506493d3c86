package org.backhippain.cds.service.system;

import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.charset.StandardCharsets;
import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.converter.json.MappingJackson2HttpMessageConverter;

/**
 * Request JSON is read strictly (RFC 8259): one document and nothing after it, no key twice in an
 * object, nesting at most {@value #MAX_DEPTH} deep (FHIR resources in a hook request are far
 * shallower; HAPI parses recursively) — each of them a 400 ({@link ErrorHandling}). UTF-8 is
 * checked on the bytes before ({@link RequestBodies}). FHIR decimals are kept exactly: prefetched
 * resources travel as the request's JSON tree straight into HAPI, so {@code 0.10} must stay {@code
 * 0.10}, not become a double. Every JSON answer says {@code application/json;charset=UTF-8}, as the
 * error bodies written outside Spring MVC do ({@link ErrorBody#send}).
 */
@Configuration
class JsonConfiguration {
  static final int MAX_DEPTH = 100;

  /** Replaces Boot's converter (same mapper), naming the charset in every JSON answer. */
  @Bean
  MappingJackson2HttpMessageConverter mappingJackson2HttpMessageConverter(ObjectMapper mapper) {
    MappingJackson2HttpMessageConverter converter = new MappingJackson2HttpMessageConverter(mapper);
    converter.setDefaultCharset(StandardCharsets.UTF_8);
    return converter;
  }

  @Bean
  Jackson2ObjectMapperBuilderCustomizer strictExactJson() {
    return builder ->
        builder
            .featuresToEnable(
                DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS,
                DeserializationFeature.FAIL_ON_TRAILING_TOKENS,
                StreamReadFeature.STRICT_DUPLICATE_DETECTION.mappedFeature())
            .postConfigurer(
                mapper -> {
                  mapper.setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));
                  mapper
                      .getFactory()
                      .setStreamReadConstraints(
                          StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build());
                });
  }
}
