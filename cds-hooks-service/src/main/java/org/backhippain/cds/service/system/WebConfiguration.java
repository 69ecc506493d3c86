package org.backhippain.cds.service.system;

import jakarta.servlet.DispatcherType;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.EnumSet;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.catalina.valves.RemoteIpValve;
import org.backhippain.cds.fhir.MemoryBudget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * The HTTP edge around Spring Security: request ids before it, request bodies after it, Tomcat's
 * proxy handling ({@code server.forward-headers-strategy: native}) limited to {@code
 * cds.trusted-proxies}, connections closed rather than drained after an early answer, and Tomcat's
 * own error answers in JSON.
 */
@Configuration(proxyBeanMethods = false)
class WebConfiguration {
  private static final Logger log = LoggerFactory.getLogger(WebConfiguration.class);
  private static final Pattern IP_LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");

  @Bean
  FilterRegistrationBean<RequestIds> requestIds() {
    var registration = new FilterRegistrationBean<>(new RequestIds());
    registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
    registration.setDispatcherTypes(
        EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR));
    return registration;
  }

  /** After Spring Security's filter chain (order -100): bodies only of requests it let through. */
  @Bean
  FilterRegistrationBean<RequestBodies> requestBodies(
      CdsProperties properties, MemoryBudget budget, CdsMetrics metrics) {
    var registration = new FilterRegistrationBean<>(new RequestBodies(properties, budget, metrics));
    registration.setOrder(0);
    registration.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC));
    return registration;
  }

  /** Runs after Boot's own customizer, which adds the RemoteIpValve with its default proxies. */
  @Bean
  WebServerFactoryCustomizer<TomcatServletWebServerFactory> edge(CdsProperties properties) {
    String internalProxies = internalProxies(properties.trustedProxies());
    return new Edge() {
      @Override
      public void customize(TomcatServletWebServerFactory factory) {
        factory.getEngineValves().stream()
            .filter(RemoteIpValve.class::isInstance)
            .map(RemoteIpValve.class::cast)
            .forEach(
                valve -> {
                  valve.setInternalProxies(internalProxies);
                  valve.setTrustedProxies(null);
                });
        // An engine valve: its check runs after the host's error-page handling.
        factory.addEngineValves(new UnreadBodies());
        factory.addContextCustomizers(
            context -> {
              // Replaces Tomcat's HTML error page (added by Boot's own customizer, before this
              // one).
              StandardHost host = (StandardHost) context.getParent();
              for (Valve valve : host.getPipeline().getValves()) {
                if (valve.getClass() == ErrorReportValve.class) {
                  host.getPipeline().removeValve(valve);
                }
              }
              host.setErrorReportValveClass(ContainerErrors.class.getName());
              host.getPipeline().addValve(new ContainerErrors());
            });
        log.info(
            "X-Forwarded-* headers honoured from: {}",
            properties.trustedProxies().isEmpty() ? "no address" : properties.trustedProxies());
      }

      @Override
      public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
      }
    };
  }

  private interface Edge
      extends WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {}

  /** A pattern matching exactly the given addresses, as Tomcat writes them; empty: none. */
  static String internalProxies(List<String> addresses) {
    return addresses.stream()
        .map(String::strip)
        .map(
            address -> {
              if (!IP_LITERAL.matcher(address).matches()) {
                throw new IllegalArgumentException(
                    "cds.trusted-proxies: " + address + " is not an IP address");
              }
              try {
                return Pattern.quote(InetAddress.getByName(address).getHostAddress());
              } catch (UnknownHostException e) {
                throw new IllegalArgumentException(
                    "cds.trusted-proxies: " + address + " is not an IP address", e);
              }
            })
        .collect(Collectors.joining("|"));
  }
}
