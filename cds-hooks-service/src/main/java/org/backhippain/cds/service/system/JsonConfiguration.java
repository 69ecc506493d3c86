package org.backhippain.cds.service.system;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.springframework.boot.autoconfigure.jackson.Jackson2ObjectMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Request JSON keeps FHIR decimals exactly: prefetched resources travel as the request's JSON tree
 * straight into HAPI, so {@code 0.10} must stay {@code 0.10}, not become a double.
 */
@Configuration
class JsonConfiguration {
  @Bean
  Jackson2ObjectMapperBuilderCustomizer exactDecimals() {
    return builder ->
        builder
            .featuresToEnable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .postConfigurer(
                mapper -> mapper.setNodeFactory(JsonNodeFactory.withExactBigDecimals(true)));
  }
}
