package s3

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultRegion is the region of a Config that names none.
const DefaultRegion = "us-east-1"

// Config says which bucket to use and how to reach it.
type Config struct {
	// Bucket is the name of the S3 bucket. Required.
	Bucket string
	// Endpoint is the base URL of an S3-compatible server, such as
	// "http://127.0.0.1:7070"; empty means AWS.
	Endpoint string
	// Region defaults to DefaultRegion.
	Region string
	// PathStyle addresses the bucket in the URL path rather than in the
	// host name, as most S3-compatible servers need.
	PathStyle bool
	// AccessKey and SecretKey, when both set, are the credentials; when
	// empty, the standard AWS chain is used (AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, the shared config files, instance roles...).
	AccessKey string
	SecretKey string
}

// ParseURL parses "s3://<bucket>?endpoint=<url>&region=<r>&path_style=true",
// whose query parameters are all optional. It returns an error for another
// scheme, a missing bucket, a path, user info (credentials never go in the
// URL) or an unknown parameter.
func ParseURL(rawURL string) (Config, error) {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return Config{}, fmt.Errorf("s3: %w", err)
	case u.Scheme != "s3" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/"):
		return Config{}, fmt.Errorf("s3: URL %q is not s3://<bucket>?<options>", u.Redacted())
	}
	c := Config{Bucket: u.Host}
	for name, values := range u.Query() {
		if err := c.set(name, values[len(values)-1]); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// set sets the option name of a URL to value.
func (c *Config) set(name, value string) error {
	switch name {
	case "endpoint":
		c.Endpoint = value
	case "region":
		c.Region = value
	case "path_style":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("s3: path_style=%q is not a boolean", value)
		}
		c.PathStyle = b
	default:
		return fmt.Errorf("s3: unknown URL option %q", name)
	}
	return nil
}

// URL returns c as a URL that ParseURL reads back, without the credentials.
func (c Config) URL() string {
	q := url.Values{}
	if c.Endpoint != "" {
		q.Set("endpoint", c.Endpoint)
	}
	if c.Region != "" {
		q.Set("region", c.Region)
	}
	if c.PathStyle {
		q.Set("path_style", "true")
	}
	u := url.URL{Scheme: "s3", Host: c.Bucket, RawQuery: q.Encode()}
	return u.String()
}

// NewClient returns the S3 client that OpenConfig uses for c. It does not
// contact the server.
func NewClient(ctx context.Context, c Config) (*awss3.Client, error) {
	region := c.Region
	if region == "" {
		region = DefaultRegion
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithHTTPClient(httpClient()),
	}
	if c.AccessKey != "" || c.SecretKey != "" {
		creds := credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, "")
		opts = append(opts, config.WithCredentialsProvider(creds))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: load AWS config: %w", err)
	}
	return awss3.NewFromConfig(cfg, c.clientOptions), nil
}

// clientOptions points the client at c's endpoint. S3-compatible servers
// may not know the checksums that AWS SDKs now send by default, so for
// them checksums are computed only where the API requires them.
func (c Config) clientOptions(o *awss3.Options) {
	o.UsePathStyle = c.PathStyle
	if c.Endpoint == "" {
		return
	}
	o.BaseEndpoint = aws.String(c.Endpoint)
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}

// httpClient returns an HTTP client whose every stage has a deadline, so a
// stuck server fails a call even under a context without one.
func httpClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithTimeout(2 * time.Minute).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = 10 * time.Second
			t.ResponseHeaderTimeout = 30 * time.Second
			t.ExpectContinueTimeout = time.Second
			t.IdleConnTimeout = 90 * time.Second
			t.MaxIdleConnsPerHost = 32
		})
}
