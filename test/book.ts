/** Manifests from the book (Kubernetes in Action) that more than one test applies. */

/** The book's Ingress (Kubernetes in Action, chapter 5), apiVersion networking.k8s.io/v1 (pathType and service backends as v1 has them). */
export const KUBIA_INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: kubia
spec:
  rules:
  - host: kubia.example.com
    http:
      paths:
      - path: /kubia
        pathType: Prefix
        backend:
          service:
            name: kubia
            port:
              number: 80
      - path: /foo
        pathType: Prefix
        backend:
          service:
            name: bar
            port:
              number: 80
`;
